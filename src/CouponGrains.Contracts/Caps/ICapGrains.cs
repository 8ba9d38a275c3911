using Orleans.Concurrency;

namespace CouponGrains.Contracts.Caps;

public enum HoldStatus
{
    Held,
    Exhausted,
}

/// <summary>What a per-member cap counts and whose it is.</summary>
public enum CapKind
{
    /// <summary>Sum of a dealer's discounts in a campaign.</summary>
    DealerAmount,
    /// <summary>Redemptions of a dealer's branch in a campaign.</summary>
    BranchCount,
    /// <summary>Redemptions of a customer in a campaign.</summary>
    CustomerCount,
    /// <summary>Redemptions of a dealer in a campaign.</summary>
    DealerCount,
    /// <summary>Sum of a dealer's branch's discounts in a campaign.</summary>
    BranchAmount,
    /// <summary>Uses of a warranty serial number or job card in a campaign (member: the warranty key).</summary>
    WarrantyUse,
    /// <summary>Codes applied on one order of a dealer, across campaigns (member: dealer, branch slot: order id).</summary>
    OrderCodes,
    /// <summary>Exclusive codes applied on one order of a dealer, across campaigns.</summary>
    OrderExclusive,
}

/// <summary>
/// The grains a campaign's per-member caps live in. A dealer's caps (its money, its count, and those of
/// its branches) share one shard picked by the dealer, so one call holds them all; customers are
/// spread by customer.
/// </summary>
public enum CapGroup
{
    Dealer,
    Customer,
}

/// <summary>
/// One cap of one member in one campaign, optionally limited to a period: the unit a cap shard keeps an
/// escrow for. Its <see cref="Key"/> is a stable string,
/// <c>{kind}/{campaign}/{dealer or customer}/{branch}/{period}</c>, where the period is
/// <c>{fromUnixSeconds}-{toUnixSeconds}</c> in UTC (empty for the campaign's lifetime), so the shard can
/// read the slot's committed total from the ledger from the key alone. An order's stacking slots belong
/// to no campaign (<see cref="OrdersScope"/>): codes of any campaign meet on one order.
/// </summary>
public readonly record struct CapSlot(CapKind Kind, string CampaignId, string Member, string? Branch = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    /// <summary>The campaign-like scope the caps of an order live in.</summary>
    public const string OrdersScope = "~orders";

    public CapGroup Group => Kind is CapKind.CustomerCount or CapKind.WarrantyUse ? CapGroup.Customer : CapGroup.Dealer;

    /// <summary>True for the caps of one order, which live outside any campaign.</summary>
    public bool IsOrderCap => Kind is CapKind.OrderCodes or CapKind.OrderExclusive;

    /// <summary>True when the slot counts money (its holds are discounts), false when it counts redemptions.</summary>
    public bool CountsAmount => Kind is CapKind.DealerAmount or CapKind.BranchAmount;

    public string Key =>
        $"{(int)Kind}{GrainKeys.Separator}{CampaignId}{GrainKeys.Separator}{Member}{GrainKeys.Separator}{Branch}{GrainKeys.Separator}{Period}";

    private string Period => From is { } from && To is { } to ? $"{from.ToUnixTimeSeconds()}-{to.ToUnixTimeSeconds()}" : "";

    /// <summary>
    /// The shard this slot lives in: picked by the dealer (or customer) alone, so one call holds a dealer's
    /// caps in a campaign together with the stacking slots of its order.
    /// </summary>
    public string ShardKey => GrainKeys.CapShard(Group, Member);

    public static CapSlot Parse(string key)
    {
        var parts = key.Split(GrainKeys.Separator);
        if (parts.Length != 5 || !int.TryParse(parts[0], out var kind) || !Enum.IsDefined((CapKind)kind))
        {
            throw new FormatException($"'{key}' is not a cap slot.");
        }

        DateTimeOffset? from = null, to = null;
        if (parts[4].Length > 0)
        {
            var dash = parts[4].IndexOf('-', 1);
            from = DateTimeOffset.FromUnixTimeSeconds(long.Parse(parts[4][..dash], System.Globalization.CultureInfo.InvariantCulture));
            to = DateTimeOffset.FromUnixTimeSeconds(long.Parse(parts[4][(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        return new CapSlot((CapKind)kind, parts[1], parts[2], parts[3].Length > 0 ? parts[3] : null, from, to);
    }
}

/// <summary>A hold to take on one slot: <c>used + held + amount ≤ limit</c>.</summary>
[GenerateSerializer, Alias("cap-hold"), Immutable]
public sealed record CapHold([property: Id(0)] string Slot, [property: Id(1)] long Amount, [property: Id(2)] long Limit);

/// <summary>What a reversal gives back to one slot.</summary>
[GenerateSerializer, Alias("cap-restore"), Immutable]
public sealed record CapRestore([property: Id(0)] string Slot, [property: Id(1)] long Amount);

/// <summary>
/// A cap shard's answer to a hold, with the epoch of the activation that granted it (see <see cref="Campaigns.CampaignHold.Fence"/>).
/// <see cref="Contended"/>: the refused slot's committed total leaves room; only holds in flight fill it.
/// </summary>
[GenerateSerializer, Alias("cap-shard-hold"), Immutable]
public readonly record struct CapShardHold([property: Id(0)] int Refused, [property: Id(1)] long Fence, [property: Id(2)] bool Contended = false);

[GenerateSerializer, Alias("cap-usage"), Immutable]
public sealed record CapUsage([property: Id(0)] long Used, [property: Id(1)] long Held);

/// <summary>
/// The per-member caps, of every campaign, whose members hash to one shard (key:
/// <see cref="GrainKeys.CapShard"/>). Every slot is its own escrow: a hold is granted only when
/// <c>used + held + amount ≤ limit</c>, so a cap can never be exceeded; a hold is confirmed once the
/// redemption is in the ledger, or released. A slot's committed total is read from the ledger the
/// first time the shard sees it. Dealers, branches and customers are many and often seen once, so they
/// share long-lived shards instead of each costing an activation.
/// </summary>
/// <remarks>
/// Array arguments are <see cref="ImmutableAttribute"/>: callers build them for the one call and never
/// change them after, and the shard only reads them, so within a silo they are passed by reference
/// rather than copied on every call.
/// </remarks>
[Alias("cap-shard")]
public interface ICapShardGrain : IFencedGrain
{
    /// <summary>
    /// Holds every slot for <paramref name="redemptionId"/>, all or nothing, in one turn. Answers
    /// <see cref="CapShardHold.Refused"/> -1 when all are held, else the index of a hold that did not fit
    /// (nothing is then held): the first whose committed total leaves no room, or, when every one of them
    /// would fit once holds in flight are released, the first of those, answered <see cref="CapShardHold.Contended"/>.
    /// </summary>
    [Alias("hold")]
    Task<CapShardHold> TryHoldAsync(string redemptionId, [Immutable] CapHold[] holds);

    /// <summary>
    /// Confirms holds of committed redemptions in one turn: <paramref name="slots"/>[i] held
    /// <paramref name="redemptionIds"/>[i]. The ledger sends it after each batch commits. One-way: a lost
    /// confirm costs only time, because the hold then expires and is resolved against the ledger.
    /// </summary>
    [Alias("confirm-many"), OneWay]
    Task ConfirmManyAsync([Immutable] string[] slots, [Immutable] string[] redemptionIds);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string redemptionId, [Immutable] string[] slots);

    /// <summary>
    /// Gives back what a reversal of <paramref name="redemptionId"/> took; applied once per
    /// <paramref name="restoreId"/> and slot. <paramref name="completes"/> is false for a partial return,
    /// which gives back money but leaves the redemption counted.
    /// </summary>
    [Alias("restore")]
    Task RestoreAsync(string redemptionId, string restoreId, [Immutable] CapRestore[] restores, bool completes);

    /// <summary>Committed use and pending holds of a slot, for dry runs.</summary>
    [Alias("usage")]
    Task<CapUsage> GetUsageAsync(string slot);

    /// <summary>
    /// Committed use and pending holds of several slots, in their order: a dry run's caps in this shard in one call,
    /// the slots not in memory read from the ledger in one batch.
    /// </summary>
    [Alias("usages")]
    Task<CapUsage[]> GetUsagesAsync([Immutable] string[] slots);
}
