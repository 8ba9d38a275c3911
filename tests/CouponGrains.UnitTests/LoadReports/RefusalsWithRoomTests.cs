using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

/// <summary>The load console's judgment of cap refusals: final only if what was stamped before the answer filled the cap.</summary>
public sealed class RefusalsWithRoomTests
{
    private static readonly DateTime T0 = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>A budget for three redemptions, dealer caps of two, branch quotas of one.</summary>
    private static readonly Scenario Race = new()
    {
        Name = "caprace", Campaigns = ["CMP-1"], Codes = ["CODE"], Dealers = 2, Run = "r",
        Budget = 3 * Scenario.Discount, DealerCap = 2 * Scenario.Discount, BranchQuota = 1,
    };

    private static Invariants.Stamp Stamp(string dealer, string branch, int ms) => new("CMP-1", dealer, branch, T0.AddMilliseconds(ms));

    private static CapRefusal Refusal(string code, string dealer, string branch, int ms) => new(0, dealer, branch, code, T0.AddMilliseconds(ms));

    /// <summary>The budget filled by 30 ms, dealer D1's cap by 20 ms, branch D2-B's quota by 30 ms.</summary>
    private static readonly Invariants.Stamp[] Filled = [Stamp("D1", "D1-B", 10), Stamp("D1", "D1-C", 20), Stamp("D2", "D2-B", 30)];

    [Fact]
    public void ARefusalAnsweredOnceTheCapWasFullIsFinal()
    {
        var refusals = new[]
        {
            Refusal("campaign_budget_exhausted", "D2", "D2-C", 31),
            Refusal("dealer_cap_reached", "D1", "D1-B", 25),
            Refusal("branch_quota_reached", "D2", "D2-B", 35),
        };

        Assert.Equal((0L, 3L), Invariants.RefusalsWithRoom(Race, refusals, Filled));
    }

    [Fact]
    public void ARefusalAnsweredWhileTheStampedRedemptionsLeftRoomIsCountedWhateverCameAfter()
    {
        // Each cap fills in the end, but after the refusal's answer: the refusal counted holds, not commits.
        var refusals = new[]
        {
            Refusal("campaign_budget_exhausted", "D2", "D2-C", 29),
            Refusal("dealer_cap_reached", "D1", "D1-B", 15),
            Refusal("branch_quota_reached", "D2", "D2-B", 5),
        };

        Assert.Equal((3L, 3L), Invariants.RefusalsWithRoom(Race, refusals, Filled));
    }

    [Fact]
    public void OnlyCapsTheScenarioSetAreJudged()
    {
        var noCaps = new Scenario { Name = "hot", Campaigns = ["CMP-1"], Codes = ["CODE"], Dealers = 1, Run = "r", Budget = Scenario.Discount };
        var refusals = new[]
        {
            Refusal("dealer_cap_reached", "D1", "D1-B", 5),
            Refusal("customer_limit_reached", "D1", "D1-B", 5),
            Refusal("campaign_budget_exhausted", "D1", "D1-B", 5),
        };

        Assert.Equal((1L, 1L), Invariants.RefusalsWithRoom(noCaps, refusals, []));
    }
}
