using System.Diagnostics;

namespace CouponGrains.LoadTests;

/// <summary>
/// The progress line a run redraws once a second (<see cref="Runner.Tick"/>), ended by a newline once it stops. It
/// stops first and ends the line after: a tick still running when the run ended had redrawn the line after its
/// newline, so the scenario's summary was written onto the end of that line, where <c>bench.sh</c>, which reads the
/// lines that start with it, did not find it (one bench printed no hot rate and a ratio of 0.00×).
/// </summary>
public sealed class ProgressLine : IAsyncDisposable
{
    private readonly TextWriter _output;
    private readonly Timer _timer;

    private ProgressLine(RunStats stats, Stopwatch clock, WalFlushes? wal, DiskWrites? writeback, TextWriter output, TimeSpan every,
        Action? redrawn)
    {
        _output = output;
        _timer = new Timer(_ =>
        {
            Runner.Tick(stats, clock, wal, writeback, output);
            redrawn?.Invoke();
        }, null, every, every);
    }

    /// <param name="every">How often the line is redrawn: once a second unless given (the warm-up's primer, tests).</param>
    /// <param name="redrawn">Called after each redraw, on the timer's thread.</param>
    public static ProgressLine Start(RunStats stats, Stopwatch clock, WalFlushes? wal, DiskWrites? writeback, TextWriter output,
        TimeSpan? every = null, Action? redrawn = null) =>
        new(stats, clock, wal, writeback, output, every ?? TimeSpan.FromSeconds(1), redrawn);

    /// <summary>Stops the redraws, waiting for one still running, then ends the line.</summary>
    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        await _output.WriteLineAsync();
    }
}
