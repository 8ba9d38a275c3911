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
    public void TheKernelsWritebackIsSetAgainstTheOtherSecondsWhenEverySecondHasIt()
    {
        static SecondStats Written(double p99, double mb) => Second(p99, 200, 1.0) with { WrittenMb = mb };

        var sampled = ReportOf(Written(30, 4), Written(30, 6), Written(30, 5), Written(31, 5), Written(90, 140), Written(80, 100)).SlowSeconds();
        var partly = ReportOf(Written(30, 4), Written(30, 6), Second(30, 200, 1.0), Written(90, 140)).SlowSeconds();

        Assert.Equal(120, sampled!.Value.WrittenMb);
        Assert.Equal(5, sampled.Value.OtherWrittenMb);
        Assert.Null(partly!.Value.WrittenMb);
        Assert.Null(partly.Value.OtherWrittenMb);
    }

    [Fact]
    public void SectorsWrittenAreSummedOverWholeDisksOnly()
    {
        const string diskstats = """
             252       0 vda 100 0 2000 50 300 10 4000 90 0 120 140 0 0 0 0 0 0
             252       1 vda1 90 0 1900 40 290 10 3900 80 0 110 120 0 0 0 0 0 0
               7       0 loop0 5 0 10 1 0 0 0 0 0 1 1 0 0 0 0 0 0
             259       0 nvme0n1 10 0 20 1 30 0 600 2 0 3 3 0 0 0 0 0 0
            """;

        Assert.Equal(4600L, DiskWrites.SectorsWritten(diskstats));
        Assert.Null(DiskWrites.SectorsWritten("   7       0 loop0 5 0 10 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n"));
    }

    [Fact]
    public void WithoutTimedFlushesThereIsNoComparison()
    {
        var report = ReportOf(Second(30, null, null), Second(30, null, null), Second(30, null, null), Second(90, null, null));

        Assert.Null(report.SlowSeconds());
    }
}
