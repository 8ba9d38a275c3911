using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Domain.Rules;

/// <summary>One code presented on an order, already evaluated against its campaign.</summary>
/// <param name="Code">The coupon code.</param>
/// <param name="CampaignId">The campaign the code belongs to (codes of one campaign count against its <see cref="CampaignDefinition.MaxCodesPerOrder"/>).</param>
/// <param name="Campaign">The campaign's definition: stacking mode, priority, per-order maximum.</param>
/// <param name="Evaluation">The code's evaluation against the whole order.</param>
public sealed record StackCandidate(string Code, string CampaignId, CampaignDefinition Campaign, Evaluation Evaluation);

/// <summary>What became of one code on the order.</summary>
public enum StackState
{
    /// <summary>The code applies with <see cref="StackOutcome.Discount"/>.</summary>
    Applied,

    /// <summary>The code would apply with <see cref="StackOutcome.Discount"/> once an approver agrees; it holds its place in the stack.</summary>
    ApprovalRequired,

    /// <summary>The code does not apply; <see cref="StackOutcome.Reason"/> says why.</summary>
    Rejected,
}

/// <summary>One code's result, in the order the codes were given.</summary>
/// <param name="LineDiscounts">The discount per order line this code takes, after the codes stacked before it.</param>
/// <param name="Reason">Why the code was rejected (or needs approval); null when applied.</param>
public sealed record StackOutcome(
    string Code, string CampaignId, StackState State, long Discount, long[] LineDiscounts, Rejection? Reason);

/// <summary>The stacking of every code on one order.</summary>
/// <param name="Outcomes">One per candidate, in input order.</param>
/// <param name="TotalDiscount">Σ discounts of the applied codes (approval-bound codes not included).</param>
/// <param name="RemainingLineValues">Each line's value left after every applied or approval-bound code.</param>
public sealed record StackResult(IReadOnlyList<StackOutcome> Outcomes, long TotalDiscount, long[] RemainingLineValues);

/// <summary>
/// Decides which of several codes on one order apply, as a pure function.
/// <list type="bullet">
/// <item>Codes are taken by campaign priority, higher first; equal priorities keep their input order.</item>
/// <item>A code whose evaluation failed is rejected with its first reason.</item>
/// <item>At most <c>maxCodesPerOrder</c> codes apply on the order and at most the campaign's
/// <see cref="CampaignDefinition.MaxCodesPerOrder"/> of one campaign: the rest get <c>too_many_codes</c>.</item>
/// <item>An <c>exclusive</c> code applies only alone: after any code has applied it gets
/// <c>not_combinable</c>, and once it applies every later code does.</item>
/// <item>Each code takes its own per-line split, each line limited to what the codes before it left
/// of the line's value, so no line is ever discounted below zero; a code left with nothing to
/// discount is rejected <c>not_eligible</c>.</item>
/// </list>
/// </summary>
public static class StackingResolver
{
    private static readonly Rejection s_notCombinable =
        new(RejectionCode.NotCombinable, "This code cannot be combined with the other codes on the order.");
    private static readonly Rejection s_tooManyForOrder =
        new(RejectionCode.TooManyCodes, "The order already carries the most codes allowed.");
    private static readonly Rejection s_tooManyForCampaign =
        new(RejectionCode.TooManyCodes, "The order already carries the most codes this campaign allows.");
    private static readonly Rejection s_nothingLeft =
        new(RejectionCode.NotEligible, "The codes before this one leave nothing on its lines to discount.");

    /// <summary>Resolves the codes on <paramref name="order"/>; <paramref name="maxCodesPerOrder"/> null means no order-wide limit.</summary>
    public static StackResult Resolve(OrderContext order, IReadOnlyList<StackCandidate> candidates, int? maxCodesPerOrder = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(candidates);

        var remaining = new long[order.Lines.Length];
        for (var i = 0; i < remaining.Length; i++)
        {
            remaining[i] = order.Lines[i].LineValue;
        }

        var sequence = new int[candidates.Count];
        for (var i = 0; i < sequence.Length; i++)
        {
            sequence[i] = i;
        }

        // Insertion sort: stable, and a handful of codes is the norm.
        for (var i = 1; i < sequence.Length; i++)
        {
            var current = sequence[i];
            var j = i - 1;
            while (j >= 0 && candidates[sequence[j]].Campaign.Priority < candidates[current].Campaign.Priority)
            {
                sequence[j + 1] = sequence[j];
                j--;
            }

            sequence[j + 1] = current;
        }

        var outcomes = new StackOutcome[candidates.Count];
        var perCampaign = new Dictionary<string, int>(StringComparer.Ordinal);
        var taken = 0;
        var exclusiveTaken = false;
        long total = 0;
        foreach (var index in sequence)
        {
            var candidate = candidates[index];
            var evaluation = candidate.Evaluation;
            var exclusive = string.Equals(candidate.Campaign.Stacking, StackingModes.Exclusive, StringComparison.Ordinal);
            perCampaign.TryGetValue(candidate.CampaignId, out var ofCampaign);

            Rejection? refusal =
                !evaluation.IsEligible && !evaluation.RequiresApproval ? evaluation.Reasons[0]
                : maxCodesPerOrder is { } orderMax && taken >= orderMax ? s_tooManyForOrder
                : candidate.Campaign.MaxCodesPerOrder is { } campaignMax && ofCampaign >= campaignMax ? s_tooManyForCampaign
                : exclusiveTaken || (exclusive && taken > 0) ? s_notCombinable
                : null;

            long[] lines = new long[remaining.Length];
            long discount = 0;
            if (refusal is null)
            {
                for (var i = 0; i < lines.Length && i < evaluation.LineDiscounts.Length; i++)
                {
                    lines[i] = Math.Min(evaluation.LineDiscounts[i], remaining[i]);
                    discount += lines[i];
                }

                if (discount == 0 && evaluation.Discount > 0)
                {
                    refusal = s_nothingLeft;
                }
            }

            if (refusal is not null)
            {
                outcomes[index] = new StackOutcome(candidate.Code, candidate.CampaignId, StackState.Rejected, 0, new long[remaining.Length], refusal);
                continue;
            }

            for (var i = 0; i < lines.Length; i++)
            {
                remaining[i] -= lines[i];
            }

            taken++;
            perCampaign[candidate.CampaignId] = ofCampaign + 1;
            exclusiveTaken |= exclusive;
            var needsApproval = evaluation.RequiresApproval;
            if (!needsApproval)
            {
                total += discount;
            }

            outcomes[index] = new StackOutcome(
                candidate.Code, candidate.CampaignId, needsApproval ? StackState.ApprovalRequired : StackState.Applied,
                discount, lines, needsApproval ? evaluation.Reasons[0] : null);
        }

        return new StackResult(outcomes, total, remaining);
    }

    /// <summary>The wire name of a stacking state: <c>applied</c>, <c>approval_required</c>, <c>rejected</c>.</summary>
    public static string ToWire(this StackState state) => state switch
    {
        StackState.Applied => "applied",
        StackState.ApprovalRequired => "approval_required",
        StackState.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };
}
