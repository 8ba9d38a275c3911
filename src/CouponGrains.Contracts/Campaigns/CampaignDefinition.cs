namespace CouponGrains.Contracts.Campaigns;

public static class CampaignKinds
{
    public static readonly string[] All =
        ["dealer_promo", "service_bundle", "target_slab", "retro_rebate", "goodwill", "warranty"];

    public static bool IsKnown(string? kind) => kind is not null && Array.IndexOf(All, kind) >= 0;
}

public static class DiscountTypes
{
    public const string Percent = "percent";
    public const string Fixed = "fixed";
    public const string Slab = "slab";
}

[GenerateSerializer, Alias("slab"), Immutable]
public sealed record Slab
{
    /// <summary>Lower bound (inclusive): minor units of order value, or a quantity.</summary>
    [Id(0)] public long From { get; init; }
    [Id(1)] public decimal Percent { get; init; }
}

/// <summary>How the discount is computed. Percentages are decimals, amounts are minor units.</summary>
[GenerateSerializer, Alias("discount-definition"), Immutable]
public sealed record DiscountDefinition
{
    [Id(0)] public required string Type { get; init; }
    [Id(1)] public decimal Percent { get; init; }
    [Id(2)] public long? MaxAmount { get; init; }
    [Id(3)] public long Amount { get; init; }
    [Id(4)] public string? Basis { get; init; }
    [Id(5)] public Slab[] Slabs { get; init; } = [];
}

/// <summary>Who and what may use a campaign. Empty lists mean "any".</summary>
[GenerateSerializer, Alias("eligibility-rules"), Immutable]
public sealed record EligibilityRules
{
    [Id(0)] public string[] Skus { get; init; } = [];
    [Id(1)] public string[] Categories { get; init; } = [];
    [Id(2)] public string[] ExcludedSkus { get; init; } = [];
    [Id(3)] public string[] ExcludedCategories { get; init; } = [];
    [Id(4)] public long MinOrderValue { get; init; }
    [Id(5)] public string[] Regions { get; init; } = [];
    [Id(6)] public string[] ChannelTiers { get; init; } = [];
    [Id(7)] public string[] CustomerTags { get; init; } = [];
    [Id(8)] public string[] DealerIds { get; init; } = [];
}

/// <summary>Caps; null means "no limit".</summary>
[GenerateSerializer, Alias("caps-definition"), Immutable]
public sealed record CapsDefinition
{
    [Id(0)] public int? PerCouponUses { get; init; }
    [Id(1)] public long? PerDealerAmount { get; init; }
    [Id(2)] public int? PerBranchRedemptions { get; init; }
    [Id(3)] public int? PerCustomerRedemptions { get; init; }
}

/// <summary>A campaign as marketing defines it. ValidFrom/ValidUntil are wall-clock times in TimeZone.</summary>
[GenerateSerializer, Alias("campaign-definition"), Immutable]
public sealed record CampaignDefinition
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public required string Currency { get; init; }
    [Id(3)] public required long Budget { get; init; }
    [Id(4)] public required DateTime ValidFrom { get; init; }
    [Id(5)] public required DateTime ValidUntil { get; init; }
    [Id(6)] public required string TimeZone { get; init; }
    [Id(7)] public required DiscountDefinition Discount { get; init; }
    [Id(8)] public EligibilityRules Eligibility { get; init; } = new();
    [Id(9)] public CapsDefinition Caps { get; init; } = new();
    [Id(10)] public decimal? MarginFloorPercent { get; init; }
}

public enum CampaignStatus
{
    Draft,
    PendingApproval,
    Active,
    Paused,
    Closed,
    Rejected,
}

[GenerateSerializer, Alias("budget-view"), Immutable]
public sealed record BudgetView
{
    [Id(0)] public long Total { get; init; }
    [Id(1)] public long Spent { get; init; }
    [Id(2)] public long Reserved { get; init; }
    [Id(3)] public long Remaining { get; init; }
}

/// <summary>A campaign as read back: its definition, lifecycle and live budget.</summary>
[GenerateSerializer, Alias("campaign-view"), Immutable]
public sealed record CampaignView
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required CampaignDefinition Definition { get; init; }
    [Id(2)] public CampaignStatus Status { get; init; }
    [Id(3)] public required BudgetView Budget { get; init; }
    [Id(4)] public long RedemptionCount { get; init; }
    [Id(5)] public DateTimeOffset CreatedAt { get; init; }
    [Id(6)] public string? CreatedBy { get; init; }
    [Id(7)] public string? DecisionNote { get; init; }
}

public static class CampaignStatusNames
{
    public static string ToWire(this CampaignStatus status) => status switch
    {
        CampaignStatus.Draft => "draft",
        CampaignStatus.PendingApproval => "pending_approval",
        CampaignStatus.Active => "active",
        CampaignStatus.Paused => "paused",
        CampaignStatus.Closed => "closed",
        CampaignStatus.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
