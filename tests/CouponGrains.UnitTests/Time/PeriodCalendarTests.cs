using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Caps;
using CouponGrains.Domain.Rules;
using CouponGrains.Domain.Time;
using Xunit;

namespace CouponGrains.UnitTests.Time;

public sealed class PeriodCalendarTests
{
    private static readonly TimeZoneInfo s_kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
    private static readonly TimeZoneInfo s_berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0, int second = 0) =>
        new(2026, month, day, hour, minute, second, TimeSpan.Zero);

    private static CampaignDefinition Campaign(PeriodCapDefinition[]? caps = null) =>
        TestCampaigns.Definition(CampaignKinds.DealerPromo, TestCampaigns.Percent(10m)) with { PeriodCaps = caps ?? [] };

    [Fact]
    public void ACampaignEndingAt235959InKolkataAcceptsAt182958ZAndRejectsAt183000Z()
    {
        var campaign = Campaign();
        var rules = CompiledRules.Compile(campaign);
        var order = new OrderContext
        {
            Code = "C-1",
            DealerId = "D-1",
            Lines = [new OrderLine { Sku = "BP-220", Quantity = 1, UnitPrice = 10_000 }],
        };

        var accepted = CampaignRules.Evaluate(rules, campaign, order, null, Utc(11, 30, 18, 29, 58));
        var rejected = CampaignRules.Evaluate(rules, campaign, order, null, Utc(11, 30, 18, 30, 0));

        Assert.True(accepted.IsEligible);
        Assert.Equal(RejectionCode.Expired, Assert.Single(rejected.Reasons).Code);
    }

    [Fact]
    public void TheDayKeyChangesAtLocalMidnight()
    {
        var before = PeriodCalendar.Find(PeriodUnit.Day, s_kolkata, Utc(11, 14, 18, 29, 59));
        var after = PeriodCalendar.Find(PeriodUnit.Day, s_kolkata, Utc(11, 14, 18, 30, 0));

        Assert.Equal("2026-11-14", before.Key);
        Assert.Equal("2026-11-15", after.Key);
        Assert.Equal(Utc(11, 14, 18, 30), after.StartUtc);
        Assert.Equal(before.EndUtc, after.StartUtc);
        Assert.Equal(TimeSpan.FromHours(24), after.Length);
    }

    [Theory]
    [InlineData(3, 29, "2026-03-29", 3, 28, 23, 3, 29, 22, 23)] // clocks spring forward 02:00 → 03:00
    [InlineData(10, 25, "2026-10-25", 10, 24, 22, 10, 25, 23, 25)] // clocks fall back 03:00 → 02:00
    public void BerlinDstChangeoverDaysLast23And25Hours(
        int month, int day, string key, int startMonth, int startDay, int startHour, int endMonth, int endDay, int endHour, int hours)
    {
        var period = PeriodCalendar.Find(PeriodUnit.Day, s_berlin, Utc(month, day, 12));

        Assert.Equal(key, period.Key);
        Assert.Equal(Utc(startMonth, startDay, startHour), period.StartUtc);
        Assert.Equal(Utc(endMonth, endDay, endHour), period.EndUtc);
        Assert.Equal(TimeSpan.FromHours(hours), period.Length);
    }

    [Fact]
    public void TheIsoWeekStartsOnMondayAndSpansTheDstChange()
    {
        // Sunday 29 March 2026 is the last day of ISO week 13 (Monday 23 March – Sunday 29 March).
        var week = PeriodCalendar.Find(PeriodUnit.Week, s_berlin, Utc(3, 29, 12));

        Assert.Equal("2026-W13", week.Key);
        Assert.Equal(Utc(3, 22, 23), week.StartUtc);
        Assert.Equal(Utc(3, 29, 22), week.EndUtc);
        Assert.Equal(TimeSpan.FromHours(7 * 24 - 1), week.Length);
    }

    [Fact]
    public void TheIsoWeekAroundNewYearBelongsToTheIsoYear()
    {
        // Thursday 1 January 2026 is in ISO week 1 of 2026, which started on Monday 29 December 2025.
        var week = PeriodCalendar.Find(PeriodUnit.Week, s_kolkata, new DateTimeOffset(2025, 12, 30, 12, 0, 0, TimeSpan.Zero));

        Assert.Equal("2026-W01", week.Key);
        Assert.Equal(new DateTimeOffset(2025, 12, 28, 18, 30, 0, TimeSpan.Zero), week.StartUtc);
    }

    [Fact]
    public void TheMonthInBerlinOctoberHasTheExtraHour()
    {
        var month = PeriodCalendar.Find(PeriodUnit.Month, s_berlin, Utc(10, 31, 22, 59));

        Assert.Equal("2026-10", month.Key);
        Assert.Equal(Utc(9, 30, 22), month.StartUtc);
        Assert.Equal(Utc(10, 31, 23), month.EndUtc);
        Assert.Equal(TimeSpan.FromHours(31 * 24 + 1), month.Length);
    }

    [Fact]
    public void PeriodCapsResolveToTheCurrentPeriodsAndScopes()
    {
        var campaign = Campaign(
        [
            new PeriodCapDefinition { Period = PeriodCapTerms.Day, Measure = PeriodCapTerms.Amount, Scope = PeriodCapTerms.DealerScope, Limit = 500_000 },
            new PeriodCapDefinition { Name = "weekly-branch", Period = PeriodCapTerms.Week, Measure = PeriodCapTerms.Count, Scope = PeriodCapTerms.BranchScope, Limit = 20 },
            new PeriodCapDefinition { Period = PeriodCapTerms.Month, Measure = PeriodCapTerms.Count, Scope = PeriodCapTerms.CampaignScope, Limit = 10_000 },
        ]);
        var order = new OrderContext { Code = "C-1", DealerId = "D-7", BranchId = "D-7-PUNE" };

        var holds = PeriodCaps.Resolve(campaign, s_kolkata, Utc(11, 14, 18, 30), order);

        Assert.Equal(3, holds.Count);
        Assert.Equal(("dealer-amount-day", "2026-11-15", 500_000L, "D-7"), (holds[0].CapName, holds[0].PeriodKey, holds[0].Limit, holds[0].ScopeId));
        Assert.Equal(("weekly-branch", "2026-W46", 20L, "D-7-PUNE"), (holds[1].CapName, holds[1].PeriodKey, holds[1].Limit, holds[1].ScopeId));
        Assert.Equal(("campaign-count-month", "2026-11", 10_000L, (string?)null), (holds[2].CapName, holds[2].PeriodKey, holds[2].Limit, holds[2].ScopeId));
    }
}
