using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Rules;
using Xunit;

namespace CouponGrains.UnitTests.Rules;

public sealed class CampaignRulesTests
{
    // Midday on 15 November 2026 in India: well inside the default window.
    private static readonly DateTimeOffset s_now = new(2026, 11, 15, 6, 30, 0, TimeSpan.Zero);

    private static CampaignDefinition Campaign(
        EligibilityRules? eligibility = null, DiscountDefinition? discount = null, decimal? marginFloor = null) => new()
        {
            Name = "Diwali dealer promo",
            Kind = "dealer_promo",
            Currency = "INR",
            Budget = 10_000_000,
            ValidFrom = new DateTime(2026, 11, 1, 0, 0, 0),
            ValidUntil = new DateTime(2026, 11, 30, 23, 59, 59),
            TimeZone = "Asia/Kolkata",
            Discount = discount ?? new DiscountDefinition { Type = DiscountTypes.Percent, Percent = 10m },
            Eligibility = eligibility ?? new EligibilityRules(),
            MarginFloorPercent = marginFloor,
        };

    private static OrderLine Line(string sku, string? category, long quantity, long unitPrice, long? unitCost = null) =>
        new() { Sku = sku, Category = category, Quantity = quantity, UnitPrice = unitPrice, UnitCost = unitCost };

    private static OrderContext Order(params OrderLine[] lines) => new()
    {
        Code = "DLR-ABCD-EFGH-JKLM",
        DealerId = "D-100",
        BranchId = "B-1",
        Lines = lines.Length == 0 ? [Line("PUMP-1", "pumps", 2, 5_000)] : lines,
    };

    private static DealerProfile Dealer(string tier = ChannelTiers.Dealer, string? region = "north") => new()
    {
        Id = "D-100",
        Name = "Sharma Traders",
        ChannelTier = tier,
        Region = region,
        Branches = [new Branch { Id = "B-1", Name = "Main", Region = "north-east" }],
    };

    private static Evaluation Evaluate(
        CampaignDefinition campaign, OrderContext order, DealerProfile? dealer = null, DateTimeOffset? now = null) =>
        CampaignRules.Evaluate(CompiledRules.Compile(campaign), campaign, order, dealer ?? Dealer(), now ?? s_now);

    private static Evaluation EvaluateWithoutDealer(CampaignDefinition campaign, OrderContext order) =>
        CampaignRules.Evaluate(CompiledRules.Compile(campaign), campaign, order, null, s_now);

    private static void AssertOnly(Evaluation evaluation, RejectionCode code)
    {
        var reason = Assert.Single(evaluation.Reasons);
        Assert.Equal(code, reason.Code);
        Assert.False(evaluation.IsEligible);
        Assert.False(string.IsNullOrWhiteSpace(reason.Message));
    }

    [Fact]
    public void AnOrderMatchingEveryRuleIsEligibleWithItsDiscount()
    {
        var result = Evaluate(Campaign(), Order());

        Assert.True(result.IsEligible);
        Assert.Empty(result.Reasons);
        Assert.Equal(10_000, result.EligibleValue);
        Assert.Equal(2, result.EligibleQuantity);
        Assert.Equal(1_000, result.Discount);
    }

    [Fact]
    public void CampaignEndingAtMidnightInKolkataAcceptsItsLastSecondAndRejectsTheNext()
    {
        var campaign = Campaign();

        Assert.True(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-11-30T18:29:58Z")).IsEligible);
        Assert.True(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-11-30T18:29:59Z")).IsEligible);
        Assert.True(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-11-30T18:29:59.999Z")).IsEligible);
        AssertOnly(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-11-30T18:30:00Z")), RejectionCode.Expired);
    }

    [Fact]
    public void CampaignStartingAtMidnightInKolkataRejectsTheSecondBefore()
    {
        var campaign = Campaign();

        AssertOnly(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-10-31T18:29:59Z")), RejectionCode.NotYetValid);
        Assert.True(Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-10-31T18:30:00Z")).IsEligible);
    }

    [Fact]
    public void DealerAllowListAdmitsListedDealers()
    {
        var campaign = Campaign(new EligibilityRules { DealerIds = ["D-100", "D-200"] });

        Assert.True(Evaluate(campaign, Order()).IsEligible);
    }

    [Fact]
    public void DealerAllowListRejectsOtherDealers()
    {
        var campaign = Campaign(new EligibilityRules { DealerIds = ["D-200"] });

        AssertOnly(Evaluate(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void ChannelTierRuleAdmitsDealersOfAListedTier()
    {
        var campaign = Campaign(new EligibilityRules { ChannelTiers = [ChannelTiers.Dealer] });

        Assert.True(Evaluate(campaign, Order(), Dealer(ChannelTiers.Dealer)).IsEligible);
    }

    [Fact]
    public void ChannelTierRuleRejectsOtherTiersAndUnknownDealers()
    {
        var campaign = Campaign(new EligibilityRules { ChannelTiers = [ChannelTiers.Distributor] });

        AssertOnly(Evaluate(campaign, Order(), Dealer(ChannelTiers.Dealer)), RejectionCode.NotEligible);
        AssertOnly(EvaluateWithoutDealer(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void RegionComesFromTheOrderFirst()
    {
        var campaign = Campaign(new EligibilityRules { Regions = ["south"] });

        Assert.True(Evaluate(campaign, Order() with { Region = "south" }).IsEligible);
        AssertOnly(Evaluate(campaign, Order() with { Region = "north-east" }), RejectionCode.NotEligible);
    }

    [Fact]
    public void RegionFallsBackToTheOrdersBranch()
    {
        var campaign = Campaign(new EligibilityRules { Regions = ["north-east"] });

        Assert.True(Evaluate(campaign, Order()).IsEligible);
    }

    [Fact]
    public void RegionFallsBackToTheDealerWhenTheBranchIsUnknown()
    {
        var campaign = Campaign(new EligibilityRules { Regions = ["north"] });

        Assert.True(Evaluate(campaign, Order() with { BranchId = "B-404" }).IsEligible);
        AssertOnly(Evaluate(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void RegionRuleRejectsAnOrderWithNoKnownRegion()
    {
        var campaign = Campaign(new EligibilityRules { Regions = ["north"] });

        AssertOnly(EvaluateWithoutDealer(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void CustomerTagsRuleAdmitsCustomersWithAnyListedTag()
    {
        var campaign = Campaign(new EligibilityRules { CustomerTags = ["fleet", "farmer"] });
        var order = Order() with { Customer = new OrderCustomer { Id = "C-1", Tags = ["retail", "farmer"] } };

        Assert.True(Evaluate(campaign, order).IsEligible);
    }

    [Fact]
    public void CustomerTagsRuleRejectsCustomersWithoutAListedTag()
    {
        var campaign = Campaign(new EligibilityRules { CustomerTags = ["fleet"] });
        var order = Order() with { Customer = new OrderCustomer { Id = "C-1", Tags = ["retail"] } };

        AssertOnly(Evaluate(campaign, order), RejectionCode.NotEligible);
        AssertOnly(Evaluate(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void OnlyLinesMatchingTheSkuOrCategoryListsCountTowardsTheDiscount()
    {
        var campaign = Campaign(new EligibilityRules { Skus = ["VALVE-9"], Categories = ["pumps"] });
        var order = Order(
            Line("PUMP-1", "pumps", 1, 10_000),
            Line("VALVE-9", "valves", 3, 1_000),
            Line("HOSE-2", "hoses", 5, 2_000));

        var result = Evaluate(campaign, order);

        Assert.True(result.IsEligible);
        Assert.Equal(13_000, result.EligibleValue);
        Assert.Equal(4, result.EligibleQuantity);
        Assert.Equal(1_300, result.Discount);
    }

    [Fact]
    public void OrderWithNoEligibleLineIsRejected()
    {
        var campaign = Campaign(new EligibilityRules { Categories = ["valves"] });

        var result = Evaluate(campaign, Order());

        AssertOnly(result, RejectionCode.NotEligible);
        Assert.Equal(0, result.EligibleValue);
        Assert.Equal(0, result.Discount);
    }

    [Fact]
    public void ExcludedSkuWinsOverAnIncludedCategory()
    {
        var campaign = Campaign(new EligibilityRules { Categories = ["pumps"], ExcludedSkus = ["PUMP-1"] });
        var order = Order(Line("PUMP-1", "pumps", 1, 10_000), Line("PUMP-2", "pumps", 1, 4_000));

        var result = Evaluate(campaign, order);

        Assert.True(result.IsEligible);
        Assert.Equal(4_000, result.EligibleValue);
    }

    [Fact]
    public void ExcludedCategoryWinsOverAnIncludedSku()
    {
        var campaign = Campaign(new EligibilityRules { Skus = ["PUMP-1"], ExcludedCategories = ["pumps"] });

        AssertOnly(Evaluate(campaign, Order()), RejectionCode.NotEligible);
    }

    [Fact]
    public void ExclusionsApplyWhenThereAreNoInclusionLists()
    {
        var campaign = Campaign(new EligibilityRules { ExcludedCategories = ["hoses"] });
        var order = Order(Line("PUMP-1", "pumps", 1, 10_000), Line("HOSE-2", "hoses", 5, 2_000));

        Assert.Equal(10_000, Evaluate(campaign, order).EligibleValue);
    }

    [Fact]
    public void MinOrderValueIsMetByTheEligibleValue()
    {
        var campaign = Campaign(new EligibilityRules { MinOrderValue = 10_000 });

        Assert.True(Evaluate(campaign, Order()).IsEligible);
    }

    [Fact]
    public void MinOrderValueCountsOnlyEligibleLines()
    {
        var campaign = Campaign(new EligibilityRules { Categories = ["pumps"], MinOrderValue = 10_000 });
        var order = Order(Line("PUMP-1", "pumps", 1, 6_000), Line("HOSE-2", "hoses", 10, 5_000));

        var result = Evaluate(campaign, order);

        AssertOnly(result, RejectionCode.MinOrderValueNotMet);
        Assert.Equal(6_000, result.EligibleValue);
    }

    [Fact]
    public void NoSlabReachedMeansNoDiscountApplies()
    {
        var slab = new DiscountDefinition
        {
            Type = DiscountTypes.Slab,
            Basis = "order_value",
            Slabs = [new Slab { From = 50_000, Percent = 5m }],
        };

        var result = Evaluate(Campaign(discount: slab), Order());

        AssertOnly(result, RejectionCode.NotEligible);
        Assert.Equal(0, result.Discount);
    }

    [Fact]
    public void SeveralFailingRulesAreReportedTogether()
    {
        var campaign = Campaign(new EligibilityRules
        {
            DealerIds = ["D-999"],
            ChannelTiers = [ChannelTiers.Distributor],
            Regions = ["west"],
            CustomerTags = ["fleet"],
            MinOrderValue = 1_000_000,
        });

        var result = Evaluate(campaign, Order(), now: DateTimeOffset.Parse("2026-12-05T00:00:00Z"));

        Assert.False(result.IsEligible);
        Assert.Equal(
            [
                RejectionCode.Expired, RejectionCode.NotEligible, RejectionCode.NotEligible,
                RejectionCode.NotEligible, RejectionCode.NotEligible, RejectionCode.MinOrderValueNotMet,
            ],
            result.Reasons.Select(r => r.Code));
        Assert.Equal(result.Reasons.Count, result.Reasons.Select(r => r.Message).Distinct().Count());
    }

    [Fact]
    public void MarginFloorIsKeptWhenTheDiscountLeavesEnoughMargin()
    {
        // Revenue 10 000, cost 6 000, discount 1 000: margin = 3 000 / 9 000 = 33.3 %.
        var campaign = Campaign(marginFloor: 33m);

        Assert.True(Evaluate(campaign, Order(Line("PUMP-1", "pumps", 2, 5_000, unitCost: 3_000))).IsEligible);
    }

    [Fact]
    public void MarginFloorIsBreachedWhenTheDiscountEatsTooMuchMargin()
    {
        // Same order, margin 33.3 % < 34 %.
        var campaign = Campaign(marginFloor: 34m);

        var result = Evaluate(campaign, Order(Line("PUMP-1", "pumps", 2, 5_000, unitCost: 3_000)));

        AssertOnly(result, RejectionCode.MarginFloorBreached);
    }

    [Fact]
    public void MarginExactlyAtTheFloorIsKept()
    {
        // Revenue 10 000, cost 7 200, discount 1 000: margin = 1 800 / 9 000 = exactly 20 %.
        var campaign = Campaign(marginFloor: 20m);

        Assert.True(Evaluate(campaign, Order(Line("PUMP-1", "pumps", 2, 5_000, unitCost: 3_600))).IsEligible);
    }

    [Fact]
    public void DiscountConsumingTheWholeRevenueBreachesTheMarginFloor()
    {
        var campaign = Campaign(discount: new DiscountDefinition { Type = DiscountTypes.Fixed, Amount = 10_000 }, marginFloor: 0m);

        AssertOnly(Evaluate(campaign, Order(Line("PUMP-1", "pumps", 2, 5_000, unitCost: 0))), RejectionCode.MarginFloorBreached);
    }

    [Fact]
    public void LinesWithoutCostAreLeftOutOfTheMarginCheck()
    {
        // Only the costed line counts: revenue 1 000, cost 500, discount 10 % of 11 000 = 1 100 > revenue.
        var withCostedLine = Order(Line("PUMP-1", "pumps", 1, 10_000), Line("SEAL-3", "seals", 1, 1_000, unitCost: 500));
        // No line carries a cost, so the check is skipped even with a very high floor.
        var withoutCost = Order(Line("PUMP-1", "pumps", 1, 10_000), Line("SEAL-3", "seals", 1, 1_000));
        var campaign = Campaign(marginFloor: 90m);

        AssertOnly(Evaluate(campaign, withCostedLine), RejectionCode.MarginFloorBreached);
        Assert.True(Evaluate(campaign, withoutCost).IsEligible);
    }

    [Fact]
    public void IneligibleLinesAreLeftOutOfTheMarginCheck()
    {
        // The hose line has a terrible margin but is excluded, so only the pump line is checked.
        var campaign = Campaign(new EligibilityRules { ExcludedCategories = ["hoses"] }, marginFloor: 30m);
        var order = Order(Line("PUMP-1", "pumps", 2, 5_000, unitCost: 3_000), Line("HOSE-2", "hoses", 1, 1_000, unitCost: 5_000));

        Assert.True(Evaluate(campaign, order).IsEligible);
    }
}
