using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Redemptions;
using Orleans.Concurrency;

namespace CouponGrains.Contracts.Coupons;

[GenerateSerializer, Alias("coupon-view"), Immutable]
public sealed record CouponView
{
    [Id(0)] public required string Code { get; init; }
    [Id(1)] public required string CampaignId { get; init; }
    [Id(2)] public string? DealerId { get; init; }
    [Id(3)] public long Uses { get; init; }
    [Id(4)] public int? MaxUses { get; init; }
    [Id(5)] public required string Status { get; init; }
    [Id(6)] public DateTimeOffset? ExpiresAt { get; init; }
}

[GenerateSerializer, Alias("coupon-hold-result"), Immutable]
public sealed record CouponHoldResult
{
    [Id(0)] public CouponView? Coupon { get; init; }
    [Id(1)] public Rejection? Rejection { get; init; }
    /// <summary>The epoch of the activation that granted the hold (see <see cref="Campaigns.CampaignHold.Fence"/>).</summary>
    [Id(2)] public long Fence { get; init; }
    /// <summary>Refused only because holds in flight take the coupon's last uses: one may be released.</summary>
    [Id(3)] public bool Contended { get; init; }
}

/// <summary>
/// One coupon code: its campaign, dealer binding, expiry and uses. Coupons are rows in PostgreSQL and
/// grains only while in use, so a million issued codes cost no memory until they are redeemed.
/// Uses are an escrow cap (see <see cref="Caps.ICapShardGrain"/>) whose limit is the coupon's own max uses.
/// </summary>
[Alias("coupon")]
public interface ICouponGrain : IFencedGrain
{
    /// <summary>The coupon, or null when no such code exists.</summary>
    [Alias("get")]
    Task<CouponView?> GetAsync();

    /// <summary>
    /// Checks the coupon for this dealer (existence, dealer binding, expiry) and holds one use.
    /// </summary>
    [Alias("hold")]
    Task<CouponHoldResult> TryHoldAsync(string redemptionId, string dealerId);

    /// <summary>
    /// Confirms the holds of committed redemptions in one turn; the ledger sends it after each batch
    /// commits. One-way: a lost confirm costs only time, because the hold then expires and is resolved
    /// against the ledger, which confirms it. The ids are built for this one call and only read, so they are
    /// passed by reference within a silo (<see cref="ImmutableAttribute"/>).
    /// </summary>
    [Alias("confirm-many"), OneWay]
    Task ConfirmManyAsync([Immutable] string[] redemptionIds);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string redemptionId);

    /// <summary>Gives back the use of a wholly reversed redemption, once per <paramref name="restoreId"/>.</summary>
    [Alias("restore")]
    Task RestoreAsync(string redemptionId, string restoreId, long amount);
}
