using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Discounts;

namespace CouponGrains.Domain.Rules;

/// <summary>What is left of one live cap, as the grain holding it last reported.</summary>
/// <param name="Code">The rejection to report when it is used up, e.g. <see cref="RejectionCode.DealerCapReached"/>.</param>
/// <param name="IsAmount">True for an amount (minor units), false for a count.</param>
/// <param name="Remaining">What is left: minor units, or redemptions.</param>
public readonly record struct RemainingCap(RejectionCode Code, bool IsAmount, long Remaining);

/// <summary>One campaign to check an order against, with its live headroom.</summary>
/// <param name="CampaignId">The campaign's id.</param>
/// <param name="Campaign">The campaign's definition.</param>
/// <param name="Rules">The compiled form of <paramref name="Campaign"/>.</param>
public sealed record QualificationCandidate(string CampaignId, CampaignDefinition Campaign, CompiledRules Rules)
{
    /// <summary>What is left of the campaign's budget; null means not limited.</summary>
    public long? RemainingBudget { get; init; }

    /// <summary>What is left of the other caps that apply (dealer amount, branch count, period caps...).</summary>
    public IReadOnlyList<RemainingCap> RemainingCaps { get; init; } = [];

    /// <summary>Live facts for <c>warranty</c> and <c>retro_rebate</c>.</summary>
    public EvaluationInputs? Inputs { get; init; }
}

/// <summary>Whether the order qualifies for one campaign, and for how much.</summary>
/// <param name="Qualifies">True when every rule passes and the caps leave room (approval-bound ones included, see <see cref="Evaluation.RequiresApproval"/>).</param>
/// <param name="Discount">The discount it would give: the evaluated discount limited by the remaining budget and amount caps.</param>
/// <param name="LineDiscounts">That discount split per order line.</param>
/// <param name="Reasons">Why it does not qualify (or needs approval); empty otherwise.</param>
/// <param name="Evaluation">The full rule evaluation.</param>
public sealed record QualificationResult(
    string CampaignId, bool Qualifies, long Discount, long[] LineDiscounts, IReadOnlyList<Rejection> Reasons, Evaluation Evaluation);

/// <summary>
/// Which campaigns an order qualifies for, as a pure function over the campaigns and the headroom their
/// grains last reported: for a "best offer" lookup at order entry. It promises nothing: the grains
/// still reserve every cap when a code is redeemed.
/// </summary>
public static class Qualifier
{
    /// <summary>One result per candidate, in the same order.</summary>
    public static IReadOnlyList<QualificationResult> Qualify(
        OrderContext order, DealerProfile? dealer, DateTimeOffset now, IReadOnlyList<QualificationCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(candidates);

        var results = new QualificationResult[candidates.Count];
        for (var c = 0; c < candidates.Count; c++)
        {
            var candidate = candidates[c];
            var evaluation = CampaignRules.Evaluate(candidate.Rules, candidate.Campaign, order, dealer, now, candidate.Inputs);
            var reasons = new List<Rejection>(evaluation.Reasons);
            var discount = evaluation.Discount;

            if (candidate.RemainingBudget is { } budget)
            {
                discount = Limit(discount, new RemainingCap(RejectionCode.CampaignBudgetExhausted, true, budget), reasons);
            }

            foreach (var cap in candidate.RemainingCaps)
            {
                discount = Limit(discount, cap, reasons);
            }

            // The split of the limited amount follows the evaluated split, so no line gets more than before.
            var lines = discount == evaluation.Discount
                ? evaluation.LineDiscounts
                : LineAllocator.Allocate(discount, evaluation.LineDiscounts);
            var qualifies = reasons.Count == 0 || (evaluation.RequiresApproval && reasons.Count == evaluation.Reasons.Count);
            results[c] = new QualificationResult(candidate.CampaignId, qualifies, discount, lines, reasons, evaluation);
        }

        return results;
    }

    /// <summary>A used-up cap refuses the campaign; an amount cap with room limits the discount to it.</summary>
    private static long Limit(long discount, RemainingCap cap, List<Rejection> reasons)
    {
        if (cap.Remaining <= 0)
        {
            reasons.Add(new Rejection(cap.Code, cap.IsAmount ? "An amount cap is used up." : "A count cap is used up."));
            return 0;
        }

        return cap.IsAmount ? Math.Min(discount, cap.Remaining) : discount;
    }
}
