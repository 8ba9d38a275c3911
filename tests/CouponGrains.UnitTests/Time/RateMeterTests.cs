using CouponGrains.Domain.Time;
using Xunit;

namespace CouponGrains.UnitTests.Time;

public sealed class RateMeterTests
{
    [Fact]
    public void ARateIsReportedOnlyOnceAWindowHasEnded()
    {
        var meter = Counted(200, startMilliseconds: 1_000);

        Assert.Equal(0, meter.PerSecond(1_100));
        Assert.Equal(800, meter.PerSecond(1_250));

        // The next window starts where the last one ended: until it ends too, the last rate stands.
        meter.Add();
        Assert.Equal(800, meter.PerSecond(1_400));
        Assert.Equal(1_000.0 / 250, meter.PerSecond(1_500));
    }

    [Fact]
    public void TheFirstReadAfterAQuietSpellReportsItsLowRate()
    {
        var meter = Counted(500, startMilliseconds: 0);

        Assert.Equal(2_000, meter.PerSecond(250));
        meter.Add();
        Assert.Equal(0.1, meter.PerSecond(10_250), 6);
    }

    private static RateMeter Counted(int events, long startMilliseconds)
    {
        var meter = new RateMeter(250, startMilliseconds);
        for (var i = 0; i < events; i++)
        {
            meter.Add();
        }

        return meter;
    }

    [Fact]
    public void CountsFromManyThreadsAreAllKept()
    {
        var meter = new RateMeter(1_000, startMilliseconds: 0);
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                meter.Add();
            }
        });

        Assert.Equal(80_000, meter.PerSecond(1_000));
    }
}
