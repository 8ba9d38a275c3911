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
}

/// <summary>One committed redemption, keyed by its id: read, reverse (exactly once), map to an invoice.</summary>
[Alias("redemption")]
public interface IRedemptionGrain : IGrainWithStringKey
{
    [Alias("get")]
    Task<RedemptionRecord?> GetAsync();

    [Alias("reverse")]
    Task<RedemptionChange> ReverseAsync(string reason, Actor actor);

    [Alias("invoice")]
    Task<RedemptionChange> MapInvoiceAsync(InvoiceMapping invoice, Actor actor);
}
