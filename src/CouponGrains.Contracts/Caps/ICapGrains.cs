using Orleans.Concurrency;

namespace CouponGrains.Contracts.Caps;

public enum HoldStatus
{
    Held,
    Exhausted,
}

/// <summary>The caps that belong to a member of a campaign: a dealer's money, a branch's count, a customer's count.</summary>
public enum CapKind
{
    /// <summary>Sum of a dealer's discounts in a campaign (member: dealer id).</summary>
    DealerAmount,
    /// <summary>Redemptions of a dealer's branch in a campaign (member: dealer id and branch id).</summary>
    BranchCount,
    /// <summary>Redemptions of a customer in a campaign (member: customer id).</summary>
    CustomerCount,
}

[GenerateSerializer, Alias("cap-usage"), Immutable]
public sealed record CapUsage([property: Id(0)] long Used, [property: Id(1)] long Held);

/// <summary>
/// Escrow caps of one kind for the members of one campaign that hash to one shard. Key:
/// <see cref="GrainKeys.CapShard"/>. Every member (a dealer, a branch, a customer) is its own cap:
/// a hold is granted only when <c>used + held + amount ≤ limit</c>, so the cap can never be exceeded;
/// a hold is confirmed once the redemption is in the ledger, or released. A member's committed total
/// is read from the ledger the first time the shard sees it. Dealers, branches and customers are many
/// and often seen once, so they share long-lived shards instead of each costing an activation.
/// </summary>
[Alias("cap-shard")]
public interface ICapShardGrain : IGrainWithStringKey
{
    [Alias("hold")]
    Task<HoldStatus> TryHoldAsync(string member, string redemptionId, long amount, long limit);

    /// <summary>
    /// Confirms holds of committed redemptions in one turn: <paramref name="members"/>[i] held
    /// <paramref name="redemptionIds"/>[i]. The ledger sends it after each batch commits. One-way: a lost
    /// confirm costs only time, because the hold then expires and is resolved against the ledger.
    /// </summary>
    [Alias("confirm-many"), OneWay]
    Task ConfirmManyAsync(string[] members, string[] redemptionIds);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string member, string redemptionId);

    /// <summary>Gives back what a reversed redemption took; applied once per redemption id.</summary>
    [Alias("restore")]
    Task RestoreAsync(string member, string redemptionId, long amount);

    /// <summary>Committed use and pending holds of a member, for dry runs.</summary>
    [Alias("usage")]
    Task<CapUsage> GetUsageAsync(string member);
}
