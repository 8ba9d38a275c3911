using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Grains.Caps;

/// <summary>One per-member cap a redemption takes from: the slot, how much, the limit, and the refusal if it does not fit.</summary>
public sealed record MemberCap(CapSlot Slot, long Amount, long Limit, Rejection Refusal);

/// <summary>
/// Which per-member caps a redemption counts against. The one list the redemption path holds, the
/// reversal restores and the dry run checks, so the three can never disagree.
/// </summary>
public static class MemberCaps
{
    private static readonly Rejection s_dealer = new(RejectionCode.DealerCapReached, "The dealer's cap for this campaign is reached.");
    private static readonly Rejection s_branch = new(RejectionCode.BranchQuotaReached, "The branch's quota for this campaign is reached.");
    private static readonly Rejection s_customer = new(RejectionCode.CustomerLimitReached, "The customer's limit for this campaign is reached.");

    /// <summary>
    /// The caps of <paramref name="caps"/> that a redemption of <paramref name="discount"/> by
    /// <paramref name="dealerId"/> (its <paramref name="branchId"/>, for <paramref name="customerId"/>)
    /// counts against. A branch or customer cap is skipped when the order names no branch or customer
    /// (the redemption path refuses such orders before it holds anything).
    /// </summary>
    public static List<MemberCap> For(CapsDefinition caps, string dealerId, string? branchId, string? customerId, long discount)
    {
        var list = new List<MemberCap>(3);
        if (caps.PerDealerAmount is { } dealerCap)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.DealerAmount, dealerId), discount, dealerCap, s_dealer));
        }

        if (caps.PerBranchRedemptions is { } branchCap && branchId is not null)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.BranchCount, dealerId, branchId), 1, branchCap, s_branch));
        }

        if (caps.PerCustomerRedemptions is { } customerCap && customerId is not null)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.CustomerCount, customerId), 1, customerCap, s_customer));
        }

        return list;
    }
}
