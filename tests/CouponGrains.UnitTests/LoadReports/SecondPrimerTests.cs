using System.Diagnostics;
using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

public sealed class SecondPrimerTests
{
    [Fact]
    public async Task TheProgressPathRunsOftenEnoughToBeCompiledWithinTheWarmUpAndStopsWithIt()
    {
        var clock = Stopwatch.StartNew();
        var primer = SecondPrimer.Start(postgres: null, wal: false, writeback: false, clock);

        // Every 50 ms: the 60 runs the runtime needs take about 3 s, a tenth of latency.sh's 30 s warm-up.
        await primer.Compiled.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(primer.Runs >= SecondPrimer.RunsToCompile);

        await primer.DisposeAsync();
        var runs = primer.Runs;
        await Task.Delay(TimeSpan.FromMilliseconds(300)); // six periods: a timer still running would have run again
        Assert.Equal(runs, primer.Runs);
    }
}
