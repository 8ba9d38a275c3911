using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Rules;
using Xunit;

namespace CouponGrains.UnitTests.Rules;

public sealed class CompiledRulesTests
{
    private static CampaignDefinition Campaign(DateTime from, DateTime until, string zone) => new()
    {
        Name = "Window",
        Kind = "dealer_promo",
        Currency = "USD",
        Budget = 1_000,
        ValidFrom = from,
        ValidUntil = until,
        TimeZone = zone,
        Discount = new DiscountDefinition { Type = DiscountTypes.Fixed, Amount = 1 },
        Eligibility = new EligibilityRules { Skus = ["A", "B"], Regions = ["north"] },
    };

    [Fact]
    public void WallClockWindowIsConvertedToUtcInTheCampaignsZone()
    {
        var rules = CompiledRules.Compile(Campaign(
            new DateTime(2026, 11, 1, 0, 0, 0), new DateTime(2026, 11, 30, 23, 59, 59), "Asia/Kolkata"));

        Assert.Equal(DateTimeOffset.Parse("2026-10-31T18:30:00Z"), rules.ValidFromUtc);
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T18:29:59Z"), rules.ValidUntilUtc);
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T18:30:00Z"), rules.ValidUntilExclusiveUtc);
        Assert.Equal(TimeSpan.FromHours(5.5), rules.TimeZone.BaseUtcOffset);
    }

    [Fact]
    public void DateTimeKindDoesNotChangeTheWallClockReading()
    {
        var utcKind = CompiledRules.Compile(Campaign(
            new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc),
            "Asia/Kolkata"));

        Assert.Equal(DateTimeOffset.Parse("2026-10-31T18:30:00Z"), utcKind.ValidFromUtc);
    }

    [Fact]
    public void TimeSkippedBySpringForwardMovesToTheTransition()
    {
        // New York jumps from 02:00 EST to 03:00 EDT on 8 March 2026 (07:00Z); 02:30 does not exist.
        var rules = CompiledRules.Compile(Campaign(
            new DateTime(2026, 3, 8, 2, 30, 0), new DateTime(2026, 3, 8, 2, 30, 0), "America/New_York"));

        Assert.Equal(DateTimeOffset.Parse("2026-03-08T07:00:00Z"), rules.ValidFromUtc);
        Assert.Equal(DateTimeOffset.Parse("2026-03-08T07:00:00Z"), rules.ValidUntilUtc);
    }

    [Fact]
    public void RepeatedTimeTakesTheFirstOccurrenceForFromAndTheSecondForUntil()
    {
        // New York falls back from 02:00 EDT to 01:00 EST on 1 November 2026; 01:30 occurs twice.
        var rules = CompiledRules.Compile(Campaign(
            new DateTime(2026, 11, 1, 1, 30, 0), new DateTime(2026, 11, 1, 1, 30, 0), "America/New_York"));

        Assert.Equal(DateTimeOffset.Parse("2026-11-01T05:30:00Z"), rules.ValidFromUtc);
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T06:30:00Z"), rules.ValidUntilUtc);
    }

    [Fact]
    public void ListsBecomeOrdinalSets()
    {
        var rules = CompiledRules.Compile(Campaign(new DateTime(2026, 1, 1), new DateTime(2026, 2, 1), "Asia/Kolkata"));

        Assert.True(rules.Skus.Contains("A"));
        Assert.False(rules.Skus.Contains("a"));
        Assert.True(rules.Regions.Contains("north"));
        Assert.Empty(rules.DealerIds);
    }

    [Fact]
    public void UnknownTimeZoneIsRefused()
    {
        Assert.Throws<TimeZoneNotFoundException>(() =>
            CompiledRules.Compile(Campaign(new DateTime(2026, 1, 1), new DateTime(2026, 2, 1), "Mars/Olympus_Mons")));
    }
}
