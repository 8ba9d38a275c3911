using System.Numerics;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;
using CouponGrains.Domain.Discounts;
using CouponGrains.Domain.Rules;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CouponGrains.UnitTests.Properties;

public sealed class DiscountProperties
{
    private static Evaluation Evaluate(CampaignDefinition campaign, OrderContext order) =>
        CampaignRules.Evaluate(CompiledRules.Compile(campaign), campaign, order, Generators.Dealer(), Generators.Now);

    private static Arbitrary<(CampaignDefinition Campaign, OrderContext Order)> CampaignAndOrder =>
        Gen.Zip(Generators.Campaign, Generators.Order).ToArbitrary();

    [Property(MaxTest = 500)]
    public Property DiscountIsNeverNegativeNorAboveTheEligibleValue() =>
        Prop.ForAll(CampaignAndOrder, pair =>
        {
            var result = Evaluate(pair.Campaign, pair.Order);
            return result.Discount >= 0 && result.Discount <= result.EligibleValue;
        });

    [Property(MaxTest = 500)]
    public Property LineDiscountsSumExactlyToTheDiscountAndStayWithinEachLine() =>
        Prop.ForAll(CampaignAndOrder, pair =>
        {
            var result = Evaluate(pair.Campaign, pair.Order);
            var lines = pair.Order.Lines;
            long sum = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                if (result.LineDiscounts[i] < 0 || result.LineDiscounts[i] > lines[i].LineValue)
                {
                    return false;
                }

                sum += result.LineDiscounts[i];
            }

            return result.LineDiscounts.Length == lines.Length && sum == result.Discount;
        });

    [Property(MaxTest = 500)]
    public Property AllocationSumsExactlyAndNeverExceedsAWeight() =>
        Prop.ForAll(
            (from weights in Gen.ArrayOf(Gen.Choose(0, int.MaxValue).Select(w => (long)w * 3_000))
             from fraction in Gen.Choose(0, 1_000)
             select (weights, fraction)).ToArbitrary(),
            input =>
            {
                long sum = 0;
                foreach (var w in input.weights)
                {
                    sum += w;
                }

                var total = (long)((BigInteger)sum * input.fraction / 1_000);
                var shares = LineAllocator.Allocate(total, input.weights);
                long given = 0;
                for (var i = 0; i < shares.Length; i++)
                {
                    if (shares[i] < 0 || shares[i] > input.weights[i])
                    {
                        return false;
                    }

                    given += shares[i];
                }

                return given == total;
            });

    [Property(MaxTest = 500)]
    public Property MarginCapNeverBreachesTheFloor() =>
        Prop.ForAll(CampaignAndOrder, pair =>
        {
            var campaign = pair.Campaign with { MarginMode = MarginModes.Cap, MarginFloorPercent = pair.Campaign.MarginFloorPercent ?? 20m };
            var result = Evaluate(campaign, pair.Order);
            if (result.Discount == 0 || campaign.Kind == CampaignKinds.RetroRebate)
            {
                return true;
            }

            // Recompute the costed revenue and cost of the discounted lines independently, and check
            // the margin with exact rational arithmetic: (net − cost) · 100 ≥ floor · net.
            BigInteger revenue = 0, cost = 0;
            var rules = CompiledRules.Compile(campaign);
            for (var i = 0; i < pair.Order.Lines.Length; i++)
            {
                var line = pair.Order.Lines[i];
                if (line.UnitCost is { } unitCost && IsCounted(campaign, rules, pair.Order, i))
                {
                    revenue += line.LineValue;
                    cost += (BigInteger)line.Quantity * unitCost;
                }
            }

            if (revenue == 0)
            {
                return true;
            }

            var net = revenue - result.Discount;
            var floorHundredths = (BigInteger)(campaign.MarginFloorPercent!.Value * 100m);
            return net > 0 && (net - cost) * 100 * 100 >= floorHundredths * net;
        });

    /// <summary>Whether line i is one the campaign discounts (mirrors the eligibility rules per kind).</summary>
    private static bool IsCounted(CampaignDefinition campaign, CompiledRules rules, OrderContext order, int i)
    {
        var line = order.Lines[i];
        return campaign.Kind switch
        {
            CampaignKinds.ServiceBundle => rules.Bundle.ItemOf(line) >= 0,
            CampaignKinds.Warranty => !line.IsLabour && (rules.Skus.Count == 0 || rules.Skus.Contains(line.Sku)),
            _ => rules.Skus.Count == 0 || rules.Skus.Contains(line.Sku),
        };
    }

    [Property(MaxTest = 300)]
    public Property PartialReturnsNeverRestoreMoreThanTakenAndAFullReturnRestoresExactly() =>
        Prop.ForAll(
            (from lineCount in Gen.Choose(1, 6)
             from discounts in Gen.ArrayOf(Generators.Amount(1_000_000), lineCount)
             from quantities in Gen.ArrayOf(Gen.Choose(1, 30).Select(q => (long)q), lineCount)
             from stepCount in Gen.Choose(0, 8)
             from steps in Gen.ArrayOf(Gen.ArrayOf(Gen.Choose(0, 10).Select(q => (long)q), lineCount), stepCount)
             select (discounts, quantities, steps)).ToArbitrary(),
            input =>
            {
                var n = input.discounts.Length;
                var returned = new long[n];
                var restored = new long[n];
                long taken = 0;
                foreach (var d in input.discounts)
                {
                    taken += d;
                }

                long restoredTotal = 0;
                foreach (var step in input.steps)
                {
                    var lines = new ReturnLine[n];
                    for (var i = 0; i < n; i++)
                    {
                        lines[i] = new ReturnLine(input.discounts[i], input.quantities[i], returned[i],
                            Math.Min(step[i], input.quantities[i] - returned[i]));
                    }

                    var r = PartialReturns.Restore(lines);
                    for (var i = 0; i < n; i++)
                    {
                        returned[i] += lines[i].ReturningNow;
                        restored[i] += r.LineRestores[i];
                        if (r.LineRestores[i] < 0 || restored[i] > input.discounts[i])
                        {
                            return false;
                        }
                    }

                    restoredTotal += r.Total;
                    if (restoredTotal > taken)
                    {
                        return false;
                    }
                }

                var final = new ReturnLine[n];
                for (var i = 0; i < n; i++)
                {
                    final[i] = new ReturnLine(input.discounts[i], input.quantities[i], returned[i], input.quantities[i] - returned[i]);
                }

                var last = PartialReturns.Restore(final);
                return last.CompletesReversal && restoredTotal + last.Total == taken;
            });

    [Property(MaxTest = 300)]
    public Property StackingNeverDiscountsALineBelowZero() =>
        Prop.ForAll(
            (from order in Generators.Order
             from codeCount in Gen.Choose(1, 4)
             from campaigns in Gen.ArrayOf(Generators.Campaign, codeCount)
             from exclusive in Gen.ArrayOf(Gen.Elements(false, false, true), campaigns.Length)
             from priorities in Gen.ArrayOf(Gen.Choose(0, 3), campaigns.Length)
             select (order, campaigns, exclusive, priorities)).ToArbitrary(),
            input =>
            {
                var candidates = new List<StackCandidate>();
                for (var i = 0; i < input.campaigns.Length; i++)
                {
                    var campaign = input.campaigns[i] with
                    {
                        Stacking = input.exclusive[i] ? StackingModes.Exclusive : StackingModes.Combinable,
                        Priority = input.priorities[i],
                    };
                    candidates.Add(new StackCandidate($"C{i}", $"K{i}", campaign, Evaluate(campaign, input.order)));
                }

                var result = StackingResolver.Resolve(input.order, candidates, maxCodesPerOrder: 3);
                for (var l = 0; l < input.order.Lines.Length; l++)
                {
                    long used = 0;
                    foreach (var outcome in result.Outcomes)
                    {
                        used += outcome.LineDiscounts[l];
                    }

                    if (result.RemainingLineValues[l] < 0 || used + result.RemainingLineValues[l] != input.order.Lines[l].LineValue)
                    {
                        return false;
                    }
                }

                return true;
            });
}
