using Orleans.Concurrency;

namespace CouponGrains.Contracts.Caps;

public enum HoldStatus
{
    Held,
    Exhausted,
}

/// <summary>
/// A cap that counts or sums redemptions (a dealer's amount, a branch's count, a customer's count).
/// Holds are escrow: <c>used + held + amount ≤ limit</c> is checked before a hold is granted, so the cap
/// can never be exceeded; a hold is confirmed once the redemption is in the ledger or released.
/// The committed total is always re-derived from the ledger when the grain activates.
/// </summary>
public interface ICapGrain
{
    [Alias("hold")]
    Task<HoldStatus> TryHoldAsync(string redemptionId, long amount, long limit);

    /// <summary>
    /// One-way: a lost confirm costs nothing but time, because the hold then expires and is resolved
    /// against the ledger (see <see cref="ICapGrain"/>), which confirms it. Saves a response per cap.
    /// </summary>
    [Alias("confirm"), OneWay]
    Task ConfirmAsync(string redemptionId);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string redemptionId);

    /// <summary>Gives back what a reversed redemption took; applied once per redemption id.</summary>
    [Alias("restore")]
    Task RestoreAsync(string redemptionId, long amount);

    /// <summary>Committed use and pending holds, for dry runs and reads.</summary>
    [Alias("usage")]
    Task<CapUsage> GetUsageAsync();
}

[GenerateSerializer, Alias("cap-usage"), Immutable]
public sealed record CapUsage([property: Id(0)] long Used, [property: Id(1)] long Held);

/// <summary>A dealer's money cap in one campaign. Key: <see cref="GrainKeys.DealerBudget"/>.</summary>
[Alias("dealer-budget")]
public interface IDealerBudgetGrain : ICapGrain, IGrainWithStringKey;

/// <summary>A branch's redemption count quota in one campaign. Key: <see cref="GrainKeys.BranchQuota"/>.</summary>
[Alias("branch-quota")]
public interface IBranchQuotaGrain : ICapGrain, IGrainWithStringKey;

/// <summary>
/// The redemption count limits of the customers of one campaign that hash to one shard. Key:
/// <see cref="GrainKeys.CustomerLimits"/>. Customers are many and mostly seen once, so they share
/// long-lived shards instead of each costing a grain activation; every customer is its own escrow cap.
/// </summary>
[Alias("customer-limits")]
public interface ICustomerLimitGrain : IGrainWithStringKey
{
    [Alias("hold")]
    Task<HoldStatus> TryHoldAsync(string customerId, string redemptionId, long limit);

    /// <summary>
    /// One-way: a lost confirm costs nothing but time, because the hold then expires and is resolved
    /// against the ledger (see <see cref="ICapGrain"/>), which confirms it. Saves a response per cap.
    /// </summary>
    [Alias("confirm"), OneWay]
    Task ConfirmAsync(string customerId, string redemptionId);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string customerId, string redemptionId);

    [Alias("restore")]
    Task RestoreAsync(string customerId, string redemptionId);

    [Alias("usage")]
    Task<CapUsage> GetUsageAsync(string customerId);
}
