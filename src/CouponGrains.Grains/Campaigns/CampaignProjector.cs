using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Discounts;

namespace CouponGrains.Grains.Campaigns;

/// <summary>
/// The finance projection of a campaign, pure. The maximum cost is the budget (the budget cap is exact).
/// The lowest margin is searched over single-SKU orders of each eligible catalogue item, at the
/// quantities where the discount's rate peaks: the least quantity that qualifies (minimum order value),
/// the entry of each slab, and the point where a maximum amount starts to bind. Between those points
/// the discount's share of the order only falls, and an order mixing SKUs has a margin between theirs,
/// so this is the lowest margin an order can reach (up to the rounding of quantities).
/// </summary>
public static class CampaignProjector
{
    private const long MaxQuantity = 1_000_000;

    public static CampaignProjection Project(CampaignDefinition campaign, IReadOnlyList<CatalogueItem> catalogue)
    {
        ProjectionWorstCase? worst = null;
        int evaluated = 0, ineligible = 0;
        foreach (var item in catalogue)
        {
            if (item.UnitPrice <= 0 || !Eligible(campaign.Eligibility, item))
            {
                ineligible++;
                continue;
            }

            evaluated++;
            foreach (var quantity in Quantities(campaign, item.UnitPrice))
            {
                long revenue, cost;
                try
                {
                    revenue = checked(item.UnitPrice * quantity);
                    cost = checked(item.UnitCost * quantity);
                }
                catch (OverflowException)
                {
                    continue;
                }

                var discount = DiscountCalculator.Compute(campaign.Discount, revenue, quantity);
                var margin = MarginGuard.MarginPercent(revenue, cost, discount);
                if (worst is null || Lower(margin, worst.MarginPercent))
                {
                    worst = new ProjectionWorstCase
                    {
                        Sku = item.Sku, Quantity = quantity, OrderValue = revenue, Cost = cost, Discount = discount, MarginPercent = margin,
                    };
                }
            }
        }

        return new CampaignProjection
        {
            Currency = campaign.Currency,
            Budget = campaign.Budget,
            MaxDiscountCost = campaign.Budget,
            MarginFloorPercent = campaign.MarginFloorPercent,
            LowestMargin = worst,
            BreachesMarginFloor = worst is not null && campaign.MarginFloorPercent is { } floor
                && MarginGuard.Breached(worst.OrderValue, worst.Cost, worst.Discount, floor),
            ItemsEvaluated = evaluated,
            ItemsIneligible = ineligible,
        };
    }

    /// <summary>A null margin (nothing left of the revenue) is the lowest of all.</summary>
    private static bool Lower(decimal? candidate, decimal? current) =>
        candidate is null ? current is not null : current is not null && candidate < current;

    private static bool Eligible(EligibilityRules rules, CatalogueItem item) =>
        (rules.Skus.Length == 0 || rules.Skus.Contains(item.Sku, StringComparer.Ordinal))
        && (rules.Categories.Length == 0 || (item.Category is not null && rules.Categories.Contains(item.Category, StringComparer.Ordinal)))
        && !rules.ExcludedSkus.Contains(item.Sku, StringComparer.Ordinal)
        && (item.Category is null || !rules.ExcludedCategories.Contains(item.Category, StringComparer.Ordinal));

    private static IEnumerable<long> Quantities(CampaignDefinition campaign, long price)
    {
        var least = Math.Max(1, CeilDiv(campaign.Eligibility.MinOrderValue, price));
        var candidates = new SortedSet<long> { least };
        var discount = campaign.Discount;
        foreach (var slab in discount.Slabs)
        {
            candidates.Add(discount.Basis == DiscountCalculator.QuantityBasis ? slab.From : CeilDiv(slab.From, price));
        }

        if (discount.MaxAmount is { } max && discount.Type == DiscountTypes.Percent && discount.Percent > 0)
        {
            // The quantity at which percent × value reaches the maximum amount, and its neighbours.
            var atCap = (long)decimal.Min(MaxQuantity, decimal.Ceiling(max * 100m / (discount.Percent * price)));
            candidates.Add(atCap - 1);
            candidates.Add(atCap);
            candidates.Add(atCap + 1);
        }

        return candidates.Where(q => q >= least && q <= MaxQuantity);
    }

    private static long CeilDiv(long value, long divisor) => value <= 0 ? 0 : (value + divisor - 1) / divisor;
}
