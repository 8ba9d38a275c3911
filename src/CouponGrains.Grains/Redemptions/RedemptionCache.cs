using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Dealers;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// What every redemption needs and rarely changes, kept for a few seconds by the whole silo: dealer profiles
/// (CRM imports) and coupons with unlimited uses (public codes capped by their campaign).
/// </summary>
/// <remarks>
/// Each coordinator used to keep its own copies. There are 256 coordinators and each sees a dealer or a
/// code only now and then, so most copies had expired by the next use, and most redemptions asked the
/// dealer grain again: about 0.7 extra grain calls per redemption. Shared, a profile is asked for once per
/// <see cref="Freshness"/> per silo. A profile changed on this silo is forgotten at once
/// (<see cref="ForgetDealer"/>), though a read already under way may put the old one back; either way, and for a
/// change made on another silo, the new profile is used within <see cref="Freshness"/>, as before. Coupons are
/// never changed once issued.
/// </remarks>
public sealed class RedemptionCache(TimeProvider time)
{
    /// <summary>How long a profile or an unlimited coupon is trusted.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(10);

    /// <summary>Past this many entries of one kind, all of that kind are dropped at once (a rough bound: a miss only asks again).</summary>
    public const int MaxEntries = 10_000;

    private readonly Entries<DealerProfile?> _dealers = new();
    private readonly Entries<CouponView> _unlimited = new();

    public bool TryGetDealer(string dealerId, out DealerProfile? profile) => _dealers.TryGet(dealerId, time.GetUtcNow(), out profile);

    public void RememberDealer(string dealerId, DealerProfile? profile) => _dealers.Set(dealerId, profile, time.GetUtcNow() + Freshness);

    /// <summary>The dealer's profile, from this cache or else from its grain (then kept).</summary>
    public async Task<DealerProfile?> DealerAsync(IGrainFactory grains, string dealerId)
    {
        if (TryGetDealer(dealerId, out var known))
        {
            return known;
        }

        var profile = await grains.Ref<IDealerGrain>(GrainKeys.Dealer(dealerId)).GetAsync();
        RememberDealer(dealerId, profile);
        return profile;
    }

    public void ForgetDealer(string dealerId) => _dealers.Remove(dealerId);

    /// <summary>The coupon with unlimited uses known by this code, or null when it must be asked.</summary>
    public CouponView? UnlimitedCoupon(string code) => _unlimited.TryGet(code, time.GetUtcNow(), out var coupon) ? coupon : null;

    public void RememberUnlimited(CouponView coupon) => _unlimited.Set(coupon.Code, coupon, time.GetUtcNow() + Freshness);

    private sealed class Entries<T>
    {
        private readonly BoundedMap<string, (T Value, DateTimeOffset Until)> _entries = new(MaxEntries, StringComparer.Ordinal);

        public bool TryGet(string key, DateTimeOffset now, out T value)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Until > now)
            {
                value = entry.Value;
                return true;
            }

            value = default!;
            return false;
        }

        public void Set(string key, T value, DateTimeOffset until) => _entries.Set(key, (value, until));

        public void Remove(string key) => _entries.Remove(key);
    }
}
