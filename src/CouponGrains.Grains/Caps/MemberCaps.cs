using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Caps;

namespace CouponGrains.Grains.Caps;

/// <summary>One per-member cap a redemption takes from: the slot, how much, the limit, and the refusal if it does not fit.</summary>
public sealed record MemberCap(CapSlot Slot, long Amount, long Limit, Rejection Refusal);

/// <summary>Who and what a redemption is for, as far as per-member caps care.</summary>
public sealed record CapSubject(string DealerId, string? BranchId, string? CustomerId, string? OrderId, string? WarrantyKey);

/// <summary>
/// Which per-member caps a redemption counts against: the dealer's, branch's and customer's caps for the
/// campaign's lifetime and per period, a warranty's single use per serial, and the stacking limits of
/// its order. The one list the redemption path holds, the reversal restores and the dry run checks, so
/// the three can never disagree.
/// </summary>
/// <remarks>
/// Stacking on an order, across campaigns: every code redeemed on an order with an id counts one on the
/// order's code slot and, if its campaign is exclusive, one on the order's exclusive slot. An exclusive
/// code needs both to be empty (it must be alone); a combinable one needs the exclusive slot empty and
/// the code count below its campaign's <c>maxCodesPerOrder</c>. The slots are held with the rest, so two
/// codes racing onto one order are decided exactly.
/// </remarks>
public static class MemberCaps
{
    private static readonly Rejection s_dealer = new(RejectionCode.DealerCapReached, "The dealer's cap for this campaign is reached.");
    private static readonly Rejection s_branch = new(RejectionCode.BranchQuotaReached, "The branch's quota for this campaign is reached.");
    private static readonly Rejection s_customer = new(RejectionCode.CustomerLimitReached, "The customer's limit for this campaign is reached.");
    private static readonly Rejection s_serial = new(RejectionCode.SerialAlreadyUsed, "This serial number or job card has had its warranty cover already.");
    private static readonly Rejection s_exclusive = new(RejectionCode.NotCombinable, "An exclusive code applies alone: the order carries another code already.");
    private static readonly Rejection s_exclusivePresent = new(RejectionCode.NotCombinable, "The order carries an exclusive code, which cannot be combined.");

    public static List<MemberCap> For(string campaignId, CampaignDefinition definition, DateTimeOffset at, CapSubject subject, long discount)
    {
        var caps = definition.Caps;
        var list = new List<MemberCap>(4);
        var dealerId = subject.DealerId;
        if (caps.PerDealerAmount is { } dealerCap)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.DealerAmount, campaignId, dealerId), discount, dealerCap, s_dealer));
        }

        if (caps.PerBranchRedemptions is { } branchCap && subject.BranchId is { } branch)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.BranchCount, campaignId, dealerId, branch), 1, branchCap, s_branch));
        }

        if (caps.PerCustomerRedemptions is { } customerCap && subject.CustomerId is { } customer)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.CustomerCount, campaignId, customer), 1, customerCap, s_customer));
        }

        if (subject.WarrantyKey is { } warranty)
        {
            list.Add(new MemberCap(new CapSlot(CapKind.WarrantyUse, campaignId, warranty), 1, 1, s_serial));
        }

        if (definition.PeriodCaps.Length > 0)
        {
            AddPeriods(list, campaignId, definition, at, subject, discount);
        }

        if (subject.OrderId is { } orderId)
        {
            var codes = new CapSlot(CapKind.OrderCodes, CapSlot.OrdersScope, dealerId, orderId);
            var exclusive = new CapSlot(CapKind.OrderExclusive, CapSlot.OrdersScope, dealerId, orderId);
            if (definition.Stacking == StackingModes.Exclusive)
            {
                list.Add(new MemberCap(codes, 1, 1, s_exclusive));
                list.Add(new MemberCap(exclusive, 1, 1, s_exclusive));
            }
            else
            {
                var max = definition.MaxCodesPerOrder;
                list.Add(new MemberCap(codes, 1, max ?? long.MaxValue, new Rejection(RejectionCode.TooManyCodes,
                    $"The order carries the most codes this campaign allows on one order ({max}).")));
                list.Add(new MemberCap(exclusive, 0, 0, s_exclusivePresent));
            }
        }

        return list;
    }

    private static void AddPeriods(List<MemberCap> list, string campaignId, CampaignDefinition definition, DateTimeOffset at, CapSubject subject, long discount)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(definition.TimeZone);
        var order = new OrderContext { Code = "", DealerId = subject.DealerId, BranchId = subject.BranchId };
        foreach (var period in PeriodCaps.Resolve(definition, zone, at, order))
        {
            var amount = period.Measure == PeriodCapTerms.Amount;
            CapKind? kind = period.Scope switch
            {
                PeriodCapTerms.DealerScope => amount ? CapKind.DealerAmount : CapKind.DealerCount,
                PeriodCapTerms.BranchScope => amount ? CapKind.BranchAmount : CapKind.BranchCount,
                _ => null, // campaign-wide periods are the campaign grain's
            };
            if (kind is null || (period.Scope == PeriodCapTerms.BranchScope && subject.BranchId is null))
            {
                continue;
            }

            var slot = new CapSlot(kind.Value, campaignId, subject.DealerId, period.Scope == PeriodCapTerms.BranchScope ? subject.BranchId : null,
                period.Period.StartUtc, period.Period.EndUtc);
            list.Add(new MemberCap(slot, amount ? discount : 1, period.Limit, new Rejection(RejectionCode.PeriodCapReached,
                $"The {period.Scope}'s {period.Measure} cap {period.CapName} for {period.Period.Key} is reached.")));
        }
    }
}
