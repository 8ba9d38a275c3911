using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Discounts;

namespace CouponGrains.Domain.Rules;

/// <summary>
/// The outcome of evaluating a campaign's rules against an order.
/// </summary>
/// <param name="EligibleValue">Σ quantity × unit price over the eligible lines, minor units.</param>
/// <param name="EligibleQuantity">Σ quantity over the eligible lines.</param>
/// <param name="Discount">
/// The discount the campaign's definition gives for the eligible lines, minor units. It is computed
/// even when some rule fails (so a dry run can show it) and must only be applied when
/// <see cref="IsEligible"/>.
/// </param>
/// <param name="Reasons">Every rule that failed, in evaluation order; empty when the order is eligible.</param>
public sealed record Evaluation(long EligibleValue, long EligibleQuantity, long Discount, IReadOnlyList<Rejection> Reasons)
{
    /// <summary>True when no rule failed.</summary>
    public bool IsEligible => Reasons.Count == 0;
}

/// <summary>
/// Campaign eligibility as a pure function: validity window, dealer, channel tier, region, customer
/// tags, eligible lines, minimum order value, discount and margin floor. Caps and budgets are not
/// checked here; they need live state and belong to the grains.
/// </summary>
public static class CampaignRules
{
    /// <summary>
    /// Evaluates every rule of <paramref name="campaign"/> against <paramref name="order"/> at
    /// <paramref name="now"/> and reports all failing ones, not just the first.
    /// <list type="bullet">
    /// <item>Window: valid from ValidFromUtc (inclusive) until ValidUntilUtc inclusive to the second.</item>
    /// <item>Region: the order's region, else the region of the dealer's branch the order names, else
    /// the dealer's region.</item>
    /// <item>A line is eligible when it matches the SKU or category lists (or both lists are empty)
    /// and is not excluded; an exclusion always wins over an inclusion.</item>
    /// <item>The minimum order value applies to the eligible value, not the order total, so ineligible
    /// lines cannot be used to reach it.</item>
    /// <item>Margin floor: over the eligible lines that carry a unit cost (skipped when none do),
    /// (revenue − discount − cost) / (revenue − discount) must be at least the floor percent.</item>
    /// </list>
    /// </summary>
    /// <param name="rules">The compiled form of <paramref name="campaign"/>.</param>
    /// <param name="dealer">The dealer's profile, or null when it is unknown (tier and dealer-region rules then fail).</param>
    public static Evaluation Evaluate(
        CompiledRules rules, CampaignDefinition campaign, OrderContext order, DealerProfile? dealer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(campaign);
        ArgumentNullException.ThrowIfNull(order);

        // Most evaluations pass, so the list is only allocated on the first failure.
        List<Rejection>? reasons = null;

        if (now < rules.ValidFromUtc)
        {
            Add(ref reasons, RejectionCode.NotYetValid, "The campaign has not started yet.");
        }

        if (now >= rules.ValidUntilExclusiveUtc)
        {
            Add(ref reasons, RejectionCode.Expired, "The campaign has ended.");
        }

        if (rules.DealerIds.Count > 0 && !rules.DealerIds.Contains(order.DealerId))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The dealer is not in the campaign's allow-list.");
        }

        if (rules.ChannelTiers.Count > 0 && (dealer is null || !rules.ChannelTiers.Contains(dealer.ChannelTier)))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The dealer's channel tier is not eligible for this campaign.");
        }

        if (rules.Regions.Count > 0)
        {
            var region = order.Region ?? BranchRegion(dealer, order.BranchId) ?? dealer?.Region;
            if (region is null || !rules.Regions.Contains(region))
            {
                Add(ref reasons, RejectionCode.NotEligible, "The order's region is not eligible for this campaign.");
            }
        }

        if (rules.CustomerTags.Count > 0 && !AnyIn(order.Customer.Tags, rules.CustomerTags))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The customer has none of the campaign's tags.");
        }

        long eligibleValue = 0, eligibleQuantity = 0;
        long costedRevenue = 0, costedCost = 0;
        var eligibleLines = 0;
        var costedLines = 0;
        var anyInclusion = rules.Skus.Count > 0 || rules.Categories.Count > 0;
        foreach (var line in order.Lines)
        {
            if (!IsEligible(line, rules, anyInclusion))
            {
                continue;
            }

            var lineValue = checked(line.Quantity * line.UnitPrice);
            eligibleValue = checked(eligibleValue + lineValue);
            eligibleQuantity = checked(eligibleQuantity + line.Quantity);
            eligibleLines++;

            if (line.UnitCost is { } unitCost)
            {
                costedRevenue = checked(costedRevenue + lineValue);
                costedCost = checked(costedCost + checked(line.Quantity * unitCost));
                costedLines++;
            }
        }

        if (eligibleLines == 0)
        {
            Add(ref reasons, RejectionCode.NotEligible, "No line of the order is eligible.");
        }

        if (eligibleValue < campaign.Eligibility.MinOrderValue)
        {
            Add(ref reasons, RejectionCode.MinOrderValueNotMet,
                $"The eligible order value {eligibleValue} is below the minimum {campaign.Eligibility.MinOrderValue}.");
        }

        var discount = DiscountCalculator.Compute(campaign.Discount, eligibleValue, eligibleQuantity);

        if (campaign.MarginFloorPercent is { } floor && costedLines > 0
            && MarginBreached(costedRevenue, costedCost, discount, floor))
        {
            Add(ref reasons, RejectionCode.MarginFloorBreached,
                $"The discount would take the margin below the campaign's floor of {floor}%.");
        }

        if (discount == 0 && reasons is null)
        {
            Add(ref reasons, RejectionCode.NotEligible, "No discount applies to this order.");
        }

        return new Evaluation(eligibleValue, eligibleQuantity, discount, reasons ?? (IReadOnlyList<Rejection>)[]);
    }

    private static bool IsEligible(OrderLine line, CompiledRules rules, bool anyInclusion)
    {
        var category = line.Category;
        var included = !anyInclusion
            || rules.Skus.Contains(line.Sku)
            || (category is not null && rules.Categories.Contains(category));
        return included
            && !rules.ExcludedSkus.Contains(line.Sku)
            && (category is null || !rules.ExcludedCategories.Contains(category));
    }

    private static string? BranchRegion(DealerProfile? dealer, string? branchId)
    {
        if (dealer is null || branchId is null)
        {
            return null;
        }

        foreach (var branch in dealer.Branches)
        {
            if (string.Equals(branch.Id, branchId, StringComparison.Ordinal))
            {
                return branch.Region;
            }
        }

        return null;
    }

    private static bool AnyIn(string[] values, IReadOnlySet<string> set)
    {
        foreach (var value in values)
        {
            if (value is not null && set.Contains(value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// margin% = (revenue − discount − cost) / (revenue − discount) × 100, compared with the floor by
    /// cross-multiplying in decimal so there is no division and no rounding. A discount that consumes
    /// the whole revenue leaves no margin to speak of and counts as a breach.
    /// </summary>
    private static bool MarginBreached(long revenue, long cost, long discount, decimal floorPercent)
    {
        decimal net = (decimal)revenue - discount;
        if (net <= 0)
        {
            return true;
        }

        return (net - cost) * 100m < floorPercent * net;
    }

    private static void Add(ref List<Rejection>? reasons, RejectionCode code, string message) =>
        (reasons ??= new List<Rejection>(2)).Add(new Rejection(code, message));
}
