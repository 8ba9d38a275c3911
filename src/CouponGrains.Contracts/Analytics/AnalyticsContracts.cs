namespace CouponGrains.Contracts.Analytics;

/// <summary>How redemption figures are grouped.</summary>
public static class AnalyticsDimensions
{
    public const string Campaign = "campaign";
    public const string Dealer = "dealer";
    public const string Region = "region";
    public const string ChannelTier = "channel_tier";
    public const string Day = "day";
    public const string Sku = "sku";
    public const string Category = "category";

    public static readonly string[] All = [Campaign, Dealer, Region, ChannelTier, Day, Sku, Category];
}

[GenerateSerializer, Alias("analytics-filter"), Immutable]
public sealed record AnalyticsFilter
{
    [Id(0)] public string? CampaignId { get; init; }
    [Id(1)] public string? DealerId { get; init; }
    [Id(2)] public DateOnly? From { get; init; }
    [Id(3)] public DateOnly? To { get; init; }
}

/// <summary>
/// Redemption figures of one group. Margin impact is minus the net discount (it comes straight off gross margin). The
/// unit, revenue, cost and margin figures cover the discounted order lines; margins only those whose unit cost the order
/// gave (costed), the rest is <see cref="UncostedRevenue"/>. Grouped by SKU or category, <see cref="Redemptions"/> counts
/// discounted lines and <see cref="Reversals"/> returns of them, and <see cref="EligibleValue"/> is their revenue.
/// </summary>
[GenerateSerializer, Alias("analytics-row"), Immutable]
public sealed record AnalyticsRow
{
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public string? Currency { get; init; }
    [Id(2)] public long Redemptions { get; init; }
    [Id(3)] public long Reversals { get; init; }
    [Id(4)] public long Discount { get; init; }
    [Id(5)] public long ReversedDiscount { get; init; }
    [Id(6)] public long NetDiscount { get; init; }
    [Id(7)] public long EligibleValue { get; init; }
    /// <summary>Net discount over eligible value, in basis points; null without eligible value.</summary>
    [Id(8)] public long? DiscountRateBps { get; init; }
    [Id(9)] public long MarginImpact { get; init; }
    /// <summary>Units bought on the discounted lines.</summary>
    [Id(10)] public long Units { get; init; }
    /// <summary>Units brought back by partial returns and reversals.</summary>
    [Id(11)] public long ReturnedUnits { get; init; }
    [Id(12)] public long NetUnits { get; init; }
    /// <summary>Σ quantity × unit price of the discounted lines as bought.</summary>
    [Id(13)] public long Revenue { get; init; }
    [Id(14)] public long ReturnedRevenue { get; init; }
    [Id(15)] public long NetRevenue { get; init; }
    /// <summary>Net revenue of the lines with a known unit cost: what the margins are computed over.</summary>
    [Id(16)] public long CostedRevenue { get; init; }
    /// <summary>Net revenue of the lines without a unit cost (in no margin).</summary>
    [Id(17)] public long UncostedRevenue { get; init; }
    /// <summary>Net Σ quantity × unit cost of the costed lines.</summary>
    [Id(18)] public long Cost { get; init; }
    /// <summary>Costed revenue − cost; null when no costed line was bought.</summary>
    [Id(19)] public long? MarginBeforeDiscount { get; init; }
    /// <summary>Costed revenue − their discount − cost; null when no costed line was bought.</summary>
    [Id(20)] public long? MarginAfterDiscount { get; init; }
    /// <summary>Margin after discount over costed revenue net of discount, basis points.</summary>
    [Id(21)] public long? GrossMarginBps { get; init; }
    /// <summary>Margin before discount over costed revenue, basis points.</summary>
    [Id(22)] public long? GrossMarginBeforeDiscountBps { get; init; }
}

[GenerateSerializer, Alias("burn-point"), Immutable]
public sealed record BurnPoint
{
    [Id(0)] public DateOnly Day { get; init; }
    [Id(1)] public long NetDiscount { get; init; }
    [Id(2)] public long Cumulative { get; init; }
    [Id(3)] public long? Budget { get; init; }
    /// <summary>Cumulative over budget in basis points.</summary>
    [Id(4)] public long? BurnBps { get; init; }
}

/// <summary>
/// Lift of a campaign: its participating dealers' eligible value per day while they redeemed it, against the same
/// dealers' eligible value per day in other campaigns over an equal-length window just before (the baseline).
/// </summary>
[GenerateSerializer, Alias("campaign-lift"), Immutable]
public sealed record CampaignLift
{
    [Id(0)] public required string CampaignId { get; init; }
    [Id(1)] public int Dealers { get; init; }
    [Id(2)] public DateOnly? From { get; init; }
    [Id(3)] public DateOnly? To { get; init; }
    [Id(4)] public long CampaignValuePerDay { get; init; }
    [Id(5)] public long BaselineValuePerDay { get; init; }
    /// <summary>(campaign − baseline) / baseline in basis points; null when there is no baseline.</summary>
    [Id(6)] public long? LiftBps { get; init; }
    [Id(7)] public required string Baseline { get; init; }
}

[GenerateSerializer, Alias("analytics-kpis"), Immutable]
public sealed record AnalyticsKpis
{
    [Id(0)] public long Redemptions { get; init; }
    [Id(1)] public long FraudFlags { get; init; }
    /// <summary>Flags per 1,000 redemptions, in thousandths (3 decimals).</summary>
    [Id(2)] public long FraudFlagsPer1000Milli { get; init; }
    [Id(3)] public long ExceptionRequests { get; init; }
    [Id(4)] public long ExceptionsApproved { get; init; }
    /// <summary>Approved over decided exception requests, basis points; null when none decided.</summary>
    [Id(5)] public long? ExceptionApprovalRateBps { get; init; }
    [Id(6)] public long ClaimsDecided { get; init; }
    [Id(7)] public long ClaimsRejected { get; init; }
    [Id(8)] public long ClaimsPartiallyAccepted { get; init; }
    [Id(9)] public long? ClaimRejectionRateBps { get; init; }
    [Id(10)] public Dictionary<string, long> RejectionReasons { get; init; } = [];
    [Id(11)] public long? MedianSecondsToSettlement { get; init; }
    [Id(12)] public long? MeanSecondsToSettlement { get; init; }
    [Id(13)] public long CreditedRedemptions { get; init; }
}

/// <summary>Read side of the analytics tables, for the API. A stateless worker.</summary>
[Alias("analytics")]
public interface IAnalyticsGrain : IGrainWithIntegerKey
{
    [Alias("redemptions")]
    Task<AnalyticsRow[]> RedemptionsAsync(string groupBy, AnalyticsFilter filter);

    [Alias("burn")]
    Task<BurnPoint[]> BudgetBurnAsync(string campaignId);

    [Alias("lift")]
    Task<CampaignLift> LiftAsync(string campaignId);

    [Alias("kpis")]
    Task<AnalyticsKpis> KpisAsync(AnalyticsFilter filter);
}
