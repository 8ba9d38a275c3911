using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Orders;

namespace CouponGrains.Contracts.Redemptions;

/// <summary>
/// Coordinates redemptions. One of <see cref="GrainKeys.RedeemShards"/> long-lived coordinators, chosen by
/// <see cref="GrainKeys.RedeemShard"/> from the dealer and idempotency key, so every attempt with one key
/// meets the same coordinator. Holds every cap the order touches, commits the redemption to the ledger,
/// then confirms the holds. Concurrent and repeated calls with the same key resolve to one redemption.
/// </summary>
[Alias("redeem")]
public interface IRedeemGrain : IGrainWithIntegerKey
{
    /// <param name="dealerId">The dealer the order is for: the scope of the idempotency key.</param>
    /// <param name="idempotencyKey">The caller's Idempotency-Key.</param>
    /// <param name="order">The validated order context.</param>
    /// <param name="requestHash">A hash of the request body, to detect a key reused with another body.</param>
    [Alias("redeem")]
    Task<RedeemResult> RedeemAsync(string dealerId, string idempotencyKey, OrderContext order, string requestHash, Actor actor);
}

/// <summary>Evaluates an order against a code without changing anything.</summary>
[Alias("validator")]
public interface IValidatorGrain : IGrainWithIntegerKey
{
    [Alias("validate")]
    Task<ValidationResult> ValidateAsync(OrderContext order);

    /// <summary>
    /// Several codes on one order: each is validated, then stacked by priority, exclusivity and the
    /// codes-per-order limits; every code gets a state.
    /// </summary>
    [Alias("validate-stack")]
    Task<StackValidation> ValidateStackAsync(OrderContext order, string[] codes);

    /// <summary>
    /// The campaigns an order qualifies for through the dealer's own coupons and the public named codes,
    /// each with the discount it would give now, live caps included.
    /// </summary>
    [Alias("qualify")]
    Task<ValidationResult[]> QualifyAsync(OrderContext order);

    /// <summary>A dealer's retro-rebate accrual in a campaign so far; null when there is no such retro_rebate campaign.</summary>
    [Alias("rebate")]
    Task<RebateView?> RebateAsync(string campaignId, string dealerId);
}

/// <summary>One code of a stacked validation.</summary>
[GenerateSerializer, Alias("stack-code"), Immutable]
public sealed record StackCodeResult
{
    [Id(0)] public required string Code { get; init; }
    [Id(1)] public string? CampaignId { get; init; }
    /// <summary><c>applied</c>, <c>approval_required</c> or <c>rejected</c>.</summary>
    [Id(2)] public required string State { get; init; }
    [Id(3)] public long Discount { get; init; }
    [Id(4)] public long[] LineDiscounts { get; init; } = [];
    [Id(5)] public Rejection? Reason { get; init; }
}

[GenerateSerializer, Alias("stack-validation"), Immutable]
public sealed record StackValidation
{
    [Id(0)] public StackCodeResult[] Codes { get; init; } = [];
    [Id(1)] public long TotalDiscount { get; init; }
    [Id(2)] public string? Currency { get; init; }
}

/// <summary>A dealer's retro-rebate position in a campaign: purchases so far, the percent reached, what is owed.</summary>
[GenerateSerializer, Alias("rebate-view"), Immutable]
public sealed record RebateView
{
    [Id(0)] public required string CampaignId { get; init; }
    [Id(1)] public required string DealerId { get; init; }
    [Id(2)] public int Purchases { get; init; }
    [Id(3)] public long Cumulative { get; init; }
    [Id(4)] public decimal Percent { get; init; }
    [Id(5)] public long Accrued { get; init; }
    /// <summary>The next threshold and its percent; null when the top slab is reached.</summary>
    [Id(6)] public long? NextThreshold { get; init; }
    [Id(7)] public decimal? NextPercent { get; init; }
    [Id(8)] public required string Currency { get; init; }
}

/// <summary>One committed redemption, keyed by its id: read, reverse (exactly once), map to an invoice.</summary>
[Alias("redemption")]
public interface IRedemptionGrain : IGrainWithStringKey
{
    [Alias("get")]
    Task<RedemptionRecord?> GetAsync();

    /// <summary>
    /// Reverses the redemption: wholly when <paramref name="returns"/> is null, else gives back the
    /// returned quantities of its lines (a partial return; the one that brings back the last unit
    /// completes the reversal).
    /// </summary>
    [Alias("reverse")]
    Task<RedemptionChange> ReverseAsync(string reason, ReturnedQuantity[]? returns, Actor actor);

    [Alias("invoice")]
    Task<RedemptionChange> MapInvoiceAsync(InvoiceMapping invoice, Actor actor);
}

/// <summary>A quantity of one discounted line (by its position in the order) coming back.</summary>
[GenerateSerializer, Alias("returned-quantity"), Immutable]
public sealed record ReturnedQuantity([property: Id(0)] int Line, [property: Id(1)] long Quantity);
