using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

/// <summary>The load console's count of slow seconds by their place in the run, over many reports.</summary>
public sealed class SlowPositionsTests
{
    private static string Report(string model, params (double P99, double? Mb)[] seconds) =>
        $$"""
        {"scenarios":[{"scenario":"hot","model":"{{model}}","timeline":[{{string.Join(",", seconds.Select((s, i) =>
            $$"""{"seconds":{{i + 1}},"answers":100,"p99":{{s.P99}}{{(s.Mb is { } mb ? $",\"writtenMb\":{mb}" : "")}}}"""))}}]}]}
        """;

    [Fact]
    public void ASecondSlowInTwoRunsOfThreeCountsTwiceAtItsPlace()
    {
        var positions = SlowPositions.Of(
        [
            Report("open, http driver", (10, 20), (10, 20), (30, 120), (10, 20), (10, 20)),
            Report("open, http driver", (10, 20), (25, 20), (30, 140), (10, 20), (10, 20)),
            Report("open, http driver", (10, null), (10, null), (10, null), (10, null), (10, null)),
        ]);

        Assert.Equal([1, 2, 3, 4, 5], positions.Select(p => p.Second));
        Assert.All(positions, p => Assert.Equal(3, p.Runs));
        Assert.Equal([0, 1, 2, 0, 0], positions.Select(p => p.Slow));
        Assert.Equal(130, positions[2].MeanWrittenMb);
        Assert.Equal(20, positions[0].MeanWrittenMb);
    }

    [Fact]
    public void ClosedRunsAndShortTimelinesAreLeftOut()
    {
        var positions = SlowPositions.Of(
        [
            Report("closed, http driver", (10, null), (10, null), (90, null), (10, null)),
            Report("open, http driver", (10, null), (90, null)),
        ]);

        Assert.Empty(positions);
    }
}
