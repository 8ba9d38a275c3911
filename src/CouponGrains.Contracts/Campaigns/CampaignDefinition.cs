namespace CouponGrains.Contracts.Campaigns;

public static class CampaignKinds
{
    public const string DealerPromo = "dealer_promo";
    public const string ServiceBundle = "service_bundle";
    public const string TargetSlab = "target_slab";
    public const string RetroRebate = "retro_rebate";
    public const string Goodwill = "goodwill";
    public const string Warranty = "warranty";

    public static readonly string[] All =
        [DealerPromo, ServiceBundle, TargetSlab, RetroRebate, Goodwill, Warranty];

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

    /// <summary><c>combinable</c> (the default) or <c>exclusive</c>: see <see cref="StackingModes"/>.</summary>
    [Id(11)] public string Stacking { get; init; } = StackingModes.Combinable;

    /// <summary>Stacking order on one order: higher first; equal priorities keep the order the codes came in.</summary>
    [Id(12)] public int Priority { get; init; }

    /// <summary>How many codes of this campaign one order may carry; null means no limit.</summary>
    [Id(13)] public int? MaxCodesPerOrder { get; init; }

    /// <summary>What the margin guardrail does when the discount would breach <see cref="MarginFloorPercent"/>:
    /// <c>reject</c> (the default), <c>cap</c> or <c>approval</c>; see <see cref="MarginModes"/>.</summary>
    [Id(14)] public string MarginMode { get; init; } = MarginModes.Reject;

    /// <summary>Caps per day / week / month in the campaign's time zone; empty means none.</summary>
    [Id(15)] public PeriodCapDefinition[] PeriodCaps { get; init; } = [];

    /// <summary>The parts and labour a <c>service_bundle</c> campaign requires on the order.</summary>
    [Id(16)] public BundleDefinition? Bundle { get; init; }

    /// <summary>Who may use a <c>warranty</c> campaign and the per-line cap of its cover.</summary>
    [Id(17)] public WarrantyDefinition? Warranty { get; init; }

    /// <summary>A discount above this many minor units needs an exception approval (<c>high_value</c>); null: never.</summary>
    [Id(18)] public long? ApprovalAbove { get; init; }
}

/// <summary>How a campaign's codes combine with other codes on one order.</summary>
public static class StackingModes
{
    /// <summary>May be applied together with other combinable codes.</summary>
    public const string Combinable = "combinable";

    /// <summary>Applies alone: no other code may be applied on the same order.</summary>
    public const string Exclusive = "exclusive";
}

/// <summary>What the margin guardrail does with a discount that would push the margin below the floor.</summary>
public static class MarginModes
{
    /// <summary>Reject the code with <c>margin_floor_breached</c>.</summary>
    public const string Reject = "reject";

    /// <summary>Reduce the discount to the largest amount that keeps the margin at or above the floor.</summary>
    public const string Cap = "cap";

    /// <summary>Keep the discount and route it to an approver (<c>approval_required</c>).</summary>
    public const string Approval = "approval";
}

/// <summary>Calendar periods, cap measures and cap scopes of <see cref="PeriodCapDefinition"/>.</summary>
public static class PeriodCapTerms
{
    public const string Day = "day";
    public const string Week = "week";
    public const string Month = "month";

    public const string Count = "count";
    public const string Amount = "amount";

    public const string CampaignScope = "campaign";
    public const string DealerScope = "dealer";
    public const string BranchScope = "branch";
}

/// <summary>
/// A cap that resets every calendar period in the campaign's time zone, e.g. at most 500,000 minor
/// units of discount per dealer per day. Weeks are ISO weeks starting on Monday.
/// </summary>
[GenerateSerializer, Alias("period-cap-definition"), Immutable]
public sealed record PeriodCapDefinition
{
    /// <summary>A stable name; when null the name is "{scope}-{measure}-{period}", e.g. "dealer-amount-day".</summary>
    [Id(0)] public string? Name { get; init; }

    /// <summary><c>day</c>, <c>week</c> or <c>month</c>.</summary>
    [Id(1)] public required string Period { get; init; }

    /// <summary><c>count</c> (redemptions) or <c>amount</c> (discount, minor units).</summary>
    [Id(2)] public required string Measure { get; init; }

    /// <summary><c>campaign</c>, <c>dealer</c> or <c>branch</c>.</summary>
    [Id(3)] public required string Scope { get; init; }

    /// <summary>The most the period may hold: a count, or minor units.</summary>
    [Id(4)] public required long Limit { get; init; }
}

/// <summary>One thing a service bundle requires on the order: a part (by SKU) or a labour code.</summary>
[GenerateSerializer, Alias("bundle-item"), Immutable]
public sealed record BundleItem
{
    /// <summary>The part's SKU; set this or <see cref="LabourCode"/>.</summary>
    [Id(0)] public string? Sku { get; init; }

    /// <summary>The labour operation's code; set this or <see cref="Sku"/>.</summary>
    [Id(1)] public string? LabourCode { get; init; }

    /// <summary>The least quantity the order must carry (summed over its matching lines).</summary>
    [Id(2)] public long Quantity { get; init; } = 1;
}

/// <summary>The parts and labour a <c>service_bundle</c> campaign requires; the discount applies to these lines only.</summary>
[GenerateSerializer, Alias("bundle-definition"), Immutable]
public sealed record BundleDefinition
{
    [Id(0)] public BundleItem[] Items { get; init; } = [];
}

/// <summary>
/// A <c>warranty</c> campaign's terms: the cover is the discount's percent of each part line, capped
/// per line; the order must name a serial number or job card, used once per serial.
/// </summary>
[GenerateSerializer, Alias("warranty-definition"), Immutable]
public sealed record WarrantyDefinition
{
    /// <summary>The most the cover gives on one line, minor units; null means no cap.</summary>
    [Id(0)] public long? PerLineCap { get; init; }

    /// <summary>Channel tiers that may use the cover; empty means <c>service_center</c> only.</summary>
    [Id(1)] public string[] ChannelTiers { get; init; } = [];

    /// <summary>When set, the dealer must carry this tier or a higher one of <see cref="DealerTierRanks"/> among its tags.</summary>
    [Id(2)] public string? MinDealerTier { get; init; }

    /// <summary>Dealer tiers, lowest first, read from the dealer's tags.</summary>
    [Id(3)] public string[] DealerTierRanks { get; init; } = ["bronze", "silver", "gold", "platinum"];
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
