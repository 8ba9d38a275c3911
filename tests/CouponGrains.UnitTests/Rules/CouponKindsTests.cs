using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Discounts;
using CouponGrains.Domain.Rules;
using Xunit;

namespace CouponGrains.UnitTests.Rules;

public sealed class CouponKindsTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 15, 6, 30, 0, TimeSpan.Zero);

    private static CampaignDefinition Campaign(string kind, DiscountDefinition discount) => TestCampaigns.Definition(kind, discount);

    private static DiscountDefinition Percent(decimal percent) => TestCampaigns.Percent(percent);

    private static OrderLine Part(string sku, long quantity, long unitPrice, long? unitCost = null) =>
        new() { Sku = sku, Quantity = quantity, UnitPrice = unitPrice, UnitCost = unitCost, Kind = OrderLineKinds.Part };

    private static OrderLine Labour(string code, long hours, long rate) =>
        new() { Sku = "LABOUR", LabourCode = code, Quantity = hours, UnitPrice = rate, Kind = OrderLineKinds.Labour };

    private static OrderContext Order(params OrderLine[] lines) => new() { Code = "C-1", DealerId = "D-1", Lines = lines };

    private static DealerProfile Dealer(string tier = ChannelTiers.Dealer, params string[] tags) =>
        new() { Id = "D-1", Name = "Rao Motors", ChannelTier = tier, Tags = tags };

    private static Evaluation Evaluate(
        CampaignDefinition campaign, OrderContext order, DealerProfile? dealer = null, EvaluationInputs? inputs = null) =>
        CampaignRules.Evaluate(CompiledRules.Compile(campaign), campaign, order, dealer ?? Dealer(), s_now, inputs);

    [Fact]
    public void DealerPromoGivesItsPercentSplitAcrossTheEligibleLinesOnly()
    {
        var campaign = Campaign(CampaignKinds.DealerPromo, Percent(10m)) with
        {
            Eligibility = new EligibilityRules { Skus = ["BP-220", "OF-11"] },
        };

        var result = Evaluate(campaign, Order(Part("BP-220", 1, 1_001), Part("XX-1", 5, 9_999), Part("OF-11", 2, 1_000)));

        Assert.True(result.IsEligible);
        Assert.Equal(300, result.Discount); // 10% of 3,001 rounded down
        Assert.Equal([100, 0, 200], result.LineDiscounts);
    }

    [Fact]
    public void LargestRemainderBreaksTiesTowardsTheFirstLine()
    {
        var campaign = Campaign(CampaignKinds.DealerPromo, TestCampaigns.Fixed(100));

        var result = Evaluate(campaign, Order(Part("A", 1, 300), Part("B", 1, 300), Part("C", 1, 300)));

        // 100 / 3 = 33 each with a third of a unit left over each: the extra unit goes to the first line.
        Assert.Equal([34, 33, 33], result.LineDiscounts);
    }

    [Fact]
    public void TargetSlabSaysWhichTierTheOrderReached()
    {
        var campaign = Campaign(CampaignKinds.TargetSlab, new DiscountDefinition
        {
            Type = DiscountTypes.Slab,
            Basis = DiscountCalculator.QuantityBasis,
            Slabs = [new Slab { From = 10, Percent = 2m }, new Slab { From = 50, Percent = 5m }, new Slab { From = 100, Percent = 8m }],
        });

        var result = Evaluate(campaign, Order(Part("BP-220", 60, 1_000)));

        Assert.True(result.IsEligible);
        Assert.Equal(1, result.SlabIndex);
        Assert.Equal(3_000, result.Discount);
    }

    private static CampaignDefinition Bundle() => Campaign(CampaignKinds.ServiceBundle, Percent(20m)) with
    {
        Bundle = new BundleDefinition
        {
            Items =
            [
                new BundleItem { Sku = "BP-220", Quantity = 4 },
                new BundleItem { Sku = "BF-1" },
                new BundleItem { LabourCode = "BRAKE-SVC" },
            ],
        },
    };

    [Fact]
    public void ServiceBundleDiscountsTheBundleLinesOnlyWhenEveryItemIsThere()
    {
        var result = Evaluate(Bundle(), Order(
            Part("BP-220", 4, 1_000), Part("BF-1", 1, 500), Labour("BRAKE-SVC", 2, 750), Part("WIPER", 1, 10_000)));

        Assert.True(result.IsEligible);
        Assert.Equal(6_000, result.EligibleValue);
        Assert.Equal(1_200, result.Discount);
        Assert.Equal([800, 100, 300, 0], result.LineDiscounts);
    }

    [Fact]
    public void ServiceBundleShortOfARequiredQuantityIsIncomplete()
    {
        var result = Evaluate(Bundle(), Order(Part("BP-220", 3, 1_000), Part("BF-1", 1, 500), Labour("BRAKE-SVC", 2, 750)));

        Assert.Equal(RejectionCode.BundleIncomplete, Assert.Single(result.Reasons).Code);
    }

    [Fact]
    public void ServiceBundleWithoutItsLabourIsIncomplete()
    {
        var result = Evaluate(Bundle(), Order(Part("BP-220", 4, 1_000), Part("BF-1", 1, 500)));

        Assert.Equal(RejectionCode.BundleIncomplete, Assert.Single(result.Reasons).Code);
        Assert.Equal("bundle_incomplete", RejectionCode.BundleIncomplete.ToWire());
    }

    private static readonly Slab[] s_rebateSlabs =
        [new Slab { From = 100_000, Percent = 1m }, new Slab { From = 500_000, Percent = 2m }, new Slab { From = 1_000_000, Percent = 3m }];

    [Fact]
    public void RetroRebateCrossingTwoThresholdsReprisesThePeriodRetroactively()
    {
        // 400,000 bought earlier at 1%: 4,000 accrued. This order of 700,000 takes the period to
        // 1,100,000, past 500,000 and 1,000,000: 3% of everything is 33,000, so the order accrues 29,000.
        var accrual = RetroRebate.Accrue([150_000, 250_000], 700_000, s_rebateSlabs);

        Assert.Equal(400_000, accrual.CumulativeBefore);
        Assert.Equal(1_100_000, accrual.CumulativeAfter);
        Assert.Equal(1m, accrual.PercentBefore);
        Assert.Equal(3m, accrual.PercentAfter);
        Assert.Equal(4_000, accrual.AccruedBefore);
        Assert.Equal(33_000, accrual.AccruedAfter);
        Assert.Equal(29_000, accrual.Delta);
        Assert.Equal(2, accrual.ThresholdsCrossed);
    }

    [Fact]
    public void RetroRebateBelowTheFirstThresholdAccruesNothing()
    {
        var accrual = RetroRebate.Accrue([], 99_999, s_rebateSlabs);

        Assert.Equal(0, accrual.Delta);
        Assert.Equal(0, accrual.ThresholdsCrossed);
    }

    [Fact]
    public void RetroRebateOrderGetsNoInstantDiscountButReportsItsAccrual()
    {
        var campaign = Campaign(CampaignKinds.RetroRebate, new DiscountDefinition { Type = DiscountTypes.Slab, Slabs = s_rebateSlabs });

        var result = Evaluate(campaign, Order(Part("BP-220", 7, 100_000)),
            inputs: new EvaluationInputs { PriorEligiblePurchases = [400_000] });

        Assert.True(result.IsEligible);
        Assert.Equal(0, result.Discount);
        Assert.All(result.LineDiscounts, d => Assert.Equal(0, d));
        Assert.Equal(29_000, result.Rebate!.Delta);
        Assert.Equal(33_000, result.Rebate.AccruedAfter);
    }

    [Fact]
    public void GoodwillAlwaysRequiresApprovalWithItsAmount()
    {
        var campaign = Campaign(CampaignKinds.Goodwill, TestCampaigns.Fixed(2_500));

        var result = Evaluate(campaign, Order(Part("BP-220", 1, 10_000)) with { ComplaintReference = "FF-2026-0042" });

        Assert.Equal(RejectionCode.ApprovalRequired, Assert.Single(result.Reasons).Code);
        Assert.True(result.RequiresApproval);
        Assert.Equal(2_500, result.Discount);
    }

    [Fact]
    public void GoodwillWithoutAComplaintReferenceIsRejected()
    {
        var campaign = Campaign(CampaignKinds.Goodwill, Percent(5m));

        var result = Evaluate(campaign, Order(Part("BP-220", 1, 10_000)));

        Assert.Contains(result.Reasons, r => r.Code == RejectionCode.ReferenceRequired);
        Assert.False(result.RequiresApproval);
    }

    private static CampaignDefinition Warranty(string? minTier = null) => Campaign(CampaignKinds.Warranty, Percent(50m)) with
    {
        Warranty = new WarrantyDefinition { PerLineCap = 3_000, MinDealerTier = minTier },
    };

    [Fact]
    public void WarrantyCoversAPercentOfEachPartUpToTheLineCap()
    {
        var order = Order(Part("BP-220", 1, 10_000), Part("OF-11", 1, 2_000), Labour("FIT", 1, 5_000)) with { SerialNumber = "ENG-99812" };

        var result = Evaluate(Warranty(), order, Dealer(ChannelTiers.ServiceCenter));

        Assert.True(result.IsEligible);
        Assert.Equal([3_000, 1_000, 0], result.LineDiscounts);
        Assert.Equal(4_000, result.Discount);
        Assert.Equal("serial:ENG-99812", result.WarrantyKey);
    }

    [Fact]
    public void WarrantyReusedOnTheSameSerialIsRejected()
    {
        var order = Order(Part("BP-220", 1, 10_000)) with { SerialNumber = "ENG-99812" };
        var first = Evaluate(Warranty(), order, Dealer(ChannelTiers.ServiceCenter));
        var used = new HashSet<string>(StringComparer.Ordinal) { first.WarrantyKey! };

        var second = Evaluate(Warranty(), order, Dealer(ChannelTiers.ServiceCenter), new EvaluationInputs { UsedWarrantyKeys = used });

        Assert.True(first.IsEligible);
        Assert.Equal(RejectionCode.SerialAlreadyUsed, Assert.Single(second.Reasons).Code);
    }

    [Fact]
    public void WarrantyNeedsASerialOrJobCard()
    {
        var result = Evaluate(Warranty(), Order(Part("BP-220", 1, 10_000)), Dealer(ChannelTiers.ServiceCenter));

        Assert.Equal(RejectionCode.ReferenceRequired, Assert.Single(result.Reasons).Code);
    }

    [Fact]
    public void WarrantyIsOnlyForServiceCentersByDefault()
    {
        var order = Order(Part("BP-220", 1, 10_000)) with { JobCard = "JC-1" };

        var result = Evaluate(Warranty(), order, Dealer(ChannelTiers.Dealer));

        Assert.Equal(RejectionCode.NotEligible, Assert.Single(result.Reasons).Code);
    }

    [Fact]
    public void WarrantyWithAMinimumDealerTierReadsTheDealersTags()
    {
        var order = Order(Part("BP-220", 1, 10_000)) with { JobCard = "JC-1" };

        var silver = Evaluate(Warranty("gold"), order, Dealer(ChannelTiers.ServiceCenter, "silver"));
        var platinum = Evaluate(Warranty("gold"), order, Dealer(ChannelTiers.ServiceCenter, "fleet", "platinum"));

        Assert.Equal(RejectionCode.NotEligible, Assert.Single(silver.Reasons).Code);
        Assert.True(platinum.IsEligible);
    }

    private static Evaluation TwentyPercentOffAtEightyPercentCost(decimal floor, string mode) =>
        Evaluate(
            Campaign(CampaignKinds.DealerPromo, Percent(20m)) with { MarginFloorPercent = floor, MarginMode = mode },
            Order(Part("BP-220", 1, 10_000, unitCost: 8_000)));

    [Fact]
    public void MarginCapReducesTheDiscountToTheFloorExactly()
    {
        // Revenue 10,000, cost 8,000, floor 12%: (10,000 − D − 8,000) / (10,000 − D) ≥ 12% ⇔ D ≤ 909.09…
        var result = TwentyPercentOffAtEightyPercentCost(12m, MarginModes.Cap);

        Assert.True(result.IsEligible);
        Assert.Equal(2_000, result.UncappedDiscount);
        Assert.Equal(909, result.Discount);
        Assert.Equal([909], result.LineDiscounts);
    }

    [Fact]
    public void MarginApprovalModeRoutesTheBreachToAnApprover()
    {
        var result = TwentyPercentOffAtEightyPercentCost(12m, MarginModes.Approval);

        Assert.True(result.RequiresApproval);
        Assert.Equal(2_000, result.Discount);
    }

    [Fact]
    public void MarginCapOnAnOrderAlreadyBelowTheFloorRejects()
    {
        var result = TwentyPercentOffAtEightyPercentCost(30m, MarginModes.Cap);

        Assert.Equal(RejectionCode.MarginFloorBreached, Assert.Single(result.Reasons).Code);
        Assert.Equal(0, result.Discount);
    }
}
