using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

public sealed class SlowSecondsTests
{
    private static ScenarioReport ReportOf(params SecondStats[] seconds)
    {
        var stats = new RunStats();
        stats.Timeline.AddRange(seconds);
        return new ScenarioReport("hot", "open", stats, []);
    }

    private static SecondStats Second(double p99, long? flushes, double? flushMs) => new(1, 1000, p99 / 2, p99, p99 * 1.5, flushes, flushMs);

    [Fact]
    public void SecondsAboveTwiceTheMedianP99AreSetAgainstTheOthers()
    {
        var report = ReportOf(
            Second(30, 200, 1.2), Second(32, 210, 1.4), Second(28, 190, 1.0), Second(31, 200, 1.4),
            Second(100, 100, 3.0), Second(90, 120, 2.0));

        var slow = report.SlowSeconds();

        Assert.NotNull(slow);
        Assert.Equal(2, slow.Value.Seconds);
        Assert.Equal(6, slow.Value.Of);
        Assert.Equal(2.5, slow.Value.FlushMs);
        Assert.Equal(1.25, slow.Value.OtherFlushMs);
        Assert.Equal(110, slow.Value.Flushes);
        Assert.Equal(200, slow.Value.OtherFlushes);
    }

    [Fact]
    public void SecondsWithoutAnswersOrWithoutTimedFlushesAreLeftOut()
    {
        var idle = new SecondStats(1, 0, 0, 0, 0, 5, 1.0);
        var report = ReportOf(
            Second(30, 200, 1.2), Second(30, 200, 1.2), Second(30, 200, 1.2), Second(70, 100, 2.2),
            Second(500, 10, null), idle);

        var slow = report.SlowSeconds();

        Assert.NotNull(slow);
        Assert.Equal(4, slow.Value.Of);
        Assert.Equal(1, slow.Value.Seconds);
        Assert.Equal(2.2, slow.Value.FlushMs);
    }

    [Fact]
    public void WithoutTimedFlushesThereIsNoComparison()
    {
        var report = ReportOf(Second(30, null, null), Second(30, null, null), Second(30, null, null), Second(90, null, null));

        Assert.Null(report.SlowSeconds());
    }
}
