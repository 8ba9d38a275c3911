namespace CouponGrains.Contracts.Caps;

/// <summary>
/// A grain that grants holds under a fence epoch (campaign, coupon, cap shard): every activation takes the next epoch
/// of its key, and a redemption commits only if each grain that granted one of its holds is still at the epoch it
/// granted it under.
/// </summary>
[Alias("fenced")]
public interface IFencedGrain : IGrainWithStringKey
{
    /// <summary>
    /// A redemption holding <paramref name="epoch"/> from this grain was fenced out. When that is this activation's
    /// epoch and the ledger's is newer, another activation of the key took the fence after this one (two activations
    /// can overlap while the cluster's membership changes, and the one that stays may be the older): no hold this
    /// activation grants can commit again, so it deactivates, and the next call activates the grain afresh under a new
    /// epoch. Without this, every redemption through it was answered 503 until it went idle.
    /// </summary>
    [Alias("fence-check")]
    Task CheckFenceAsync(long epoch);
}
