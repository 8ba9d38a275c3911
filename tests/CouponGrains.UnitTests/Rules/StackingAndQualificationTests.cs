using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Rules;
using Xunit;

namespace CouponGrains.UnitTests.Rules;

public sealed class StackingAndQualificationTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 15, 6, 30, 0, TimeSpan.Zero);
    private static readonly DealerProfile s_dealer = new() { Id = "D-1", Name = "Rao Motors", ChannelTier = ChannelTiers.Dealer };

    private static readonly OrderContext s_order = new()
    {
        Code = "C-1",
        DealerId = "D-1",
        Lines = [new OrderLine { Sku = "BP-220", Quantity = 1, UnitPrice = 10_000 }, new OrderLine { Sku = "OF-11", Quantity = 1, UnitPrice = 1_000 }],
    };

    private static CampaignDefinition Campaign(long amount, string stacking = StackingModes.Combinable, int priority = 0, int? maxCodes = null) =>
        TestCampaigns.Definition(CampaignKinds.DealerPromo, TestCampaigns.Fixed(amount)) with
        {
            Stacking = stacking,
            Priority = priority,
            MaxCodesPerOrder = maxCodes,
        };

    private static StackCandidate Candidate(string code, string campaignId, CampaignDefinition campaign) =>
        new(code, campaignId, campaign, CampaignRules.Evaluate(CompiledRules.Compile(campaign), campaign, s_order, s_dealer, s_now));

    [Fact]
    public void AnExclusiveCodeOfHigherPriorityShutsOutTheOthers()
    {
        var result = StackingResolver.Resolve(s_order,
        [
            Candidate("A", "K1", Campaign(1_000)),
            Candidate("B", "K2", Campaign(2_000, StackingModes.Exclusive, priority: 5)),
        ]);

        Assert.Equal(StackState.Rejected, result.Outcomes[0].State);
        Assert.Equal(RejectionCode.NotCombinable, result.Outcomes[0].Reason!.Code);
        Assert.Equal(StackState.Applied, result.Outcomes[1].State);
        Assert.Equal(2_000, result.TotalDiscount);
    }

    [Fact]
    public void AnExclusiveCodeAfterAnAppliedOneIsNotCombinable()
    {
        var result = StackingResolver.Resolve(s_order,
        [
            Candidate("A", "K1", Campaign(1_000, priority: 9)),
            Candidate("B", "K2", Campaign(2_000, StackingModes.Exclusive)),
        ]);

        Assert.Equal(StackState.Applied, result.Outcomes[0].State);
        Assert.Equal(RejectionCode.NotCombinable, result.Outcomes[1].Reason!.Code);
    }

    [Fact]
    public void CodesBeyondTheOrderAndCampaignMaximumAreTooMany()
    {
        var perCampaign = Campaign(100, maxCodes: 1);
        var result = StackingResolver.Resolve(s_order,
        [
            Candidate("A", "K1", perCampaign),
            Candidate("B", "K1", perCampaign),
            Candidate("C", "K2", Campaign(100)),
            Candidate("D", "K3", Campaign(100)),
        ], maxCodesPerOrder: 2);

        Assert.Equal(
            [StackState.Applied, StackState.Rejected, StackState.Applied, StackState.Rejected],
            result.Outcomes.Select(o => o.State));
        Assert.Equal(RejectionCode.TooManyCodes, result.Outcomes[1].Reason!.Code);
        Assert.Equal(RejectionCode.TooManyCodes, result.Outcomes[3].Reason!.Code);
        Assert.Equal("too_many_codes", RejectionCode.TooManyCodes.ToWire());
    }

    [Fact]
    public void LaterCodesOnlySeeWhatIsLeftOfEachLine()
    {
        var result = StackingResolver.Resolve(s_order,
        [
            Candidate("A", "K1", Campaign(10_000, priority: 2)),
            Candidate("B", "K2", Campaign(5_000, priority: 1)),
        ]);

        // A takes 10,000 of 11,000 split 9,091 / 909; B's own split 4,545 / 455 is clipped to what is left.
        Assert.Equal([9_091, 909], result.Outcomes[0].LineDiscounts);
        Assert.Equal([909, 91], result.Outcomes[1].LineDiscounts);
        Assert.Equal(1_000, result.Outcomes[1].Discount);
        Assert.Equal([0, 0], result.RemainingLineValues);
        Assert.Equal(11_000, result.TotalDiscount);
    }

    [Fact]
    public void QualificationCapsTheDiscountByTheRemainingBudget()
    {
        var campaign = Campaign(3_000);
        var results = Qualifier.Qualify(s_order, s_dealer, s_now,
        [
            new QualificationCandidate("K1", campaign, CompiledRules.Compile(campaign)) { RemainingBudget = 1_200 },
            new QualificationCandidate("K2", campaign, CompiledRules.Compile(campaign)) { RemainingBudget = 0 },
            new QualificationCandidate("K3", campaign, CompiledRules.Compile(campaign))
            {
                RemainingCaps = [new RemainingCap(RejectionCode.BranchQuotaReached, IsAmount: false, Remaining: 0)],
            },
        ]);

        Assert.True(results[0].Qualifies);
        Assert.Equal(1_200, results[0].Discount);
        Assert.Equal(1_200, results[0].LineDiscounts.Sum());
        Assert.False(results[1].Qualifies);
        Assert.Equal(RejectionCode.CampaignBudgetExhausted, Assert.Single(results[1].Reasons).Code);
        Assert.False(results[2].Qualifies);
        Assert.Equal(RejectionCode.BranchQuotaReached, Assert.Single(results[2].Reasons).Code);
    }
}
