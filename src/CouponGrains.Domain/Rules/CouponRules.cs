using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Domain.Rules;

/// <summary>What a coupon itself decides, apart from its uses: which dealer may use it, and until when.</summary>
public static class CouponRules
{
    private static readonly Rejection s_otherDealer = new(RejectionCode.DealerMismatch, "This coupon is bound to another dealer.");
    private static readonly Rejection s_expired = new(RejectionCode.Expired, "This coupon has expired.");

    /// <summary>Refused when the coupon is bound to another dealer; null otherwise.</summary>
    public static Rejection? DealerRefusal(string? boundDealerId, string dealerId) =>
        boundDealerId is not null && !string.Equals(boundDealerId, dealerId, StringComparison.Ordinal) ? s_otherDealer : null;

    /// <summary>Refused when the coupon has expired at <paramref name="now"/>; null otherwise.</summary>
    public static Rejection? ExpiryRefusal(DateTimeOffset? expiresAt, DateTimeOffset now) =>
        expiresAt is { } expires && now >= expires ? s_expired : null;

    /// <summary>The first reason the coupon refuses this dealer now (dealer binding before expiry), without allocating.</summary>
    public static Rejection? FirstRefusal(string? boundDealerId, DateTimeOffset? expiresAt, string dealerId, DateTimeOffset now) =>
        DealerRefusal(boundDealerId, dealerId) ?? ExpiryRefusal(expiresAt, now);
}
