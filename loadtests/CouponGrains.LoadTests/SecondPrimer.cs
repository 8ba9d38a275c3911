using System.Diagnostics;

namespace CouponGrains.LoadTests;

/// <summary>
/// Runs the once-a-second progress path (<see cref="Runner.Tick"/>) every 50 ms through the warm-up, on samplers and
/// stats of its own and into a discarding writer, so that the runtime has compiled it fully before the
/// measurement. The runtime compiles a method in three steps, the last two each after some 30 calls: at one call a
/// second, the path's final compilation fell about 60 s after the load started, in the measured phase with a
/// 30 s warm-up. One traced run compiled 232 methods in that second (263 ms of the JIT, on a 2-core box shared
/// with what it measures), most of them the WAL sampler's Npgsql path, and that second's p99 was 94 ms. It is a
/// <see cref="ProgressLine"/> of its own, redrawn 20 times as often.
/// </summary>
public sealed class SecondPrimer : IAsyncDisposable
{
    /// <summary>Runs of the path after which the runtime has compiled it for the last time (about 30 calls per step, two steps).</summary>
    public const int RunsToCompile = 60;

    private static readonly TimeSpan s_every = TimeSpan.FromMilliseconds(50);
    private readonly WalFlushes? _wal;
    private readonly StreamWriter _sink = new(Stream.Null) { AutoFlush = true };
    private readonly TaskCompletionSource _compiled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ProgressLine _line;
    private int _runs;

    private SecondPrimer(WalFlushes? wal, DiskWrites? writeback, Stopwatch clock)
    {
        _wal = wal;
        _line = ProgressLine.Start(new RunStats(), clock, wal, writeback, _sink, s_every, Ran);
    }

    private void Ran()
    {
        if (Interlocked.Increment(ref _runs) == RunsToCompile)
        {
            _compiled.TrySetResult();
        }
    }

    /// <summary>How many times the path has run.</summary>
    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Completes once the path has run <see cref="RunsToCompile"/> times (3 s into the warm-up).</summary>
    public Task Compiled => _compiled.Task;

    /// <param name="postgres">The database whose WAL flushes the progress line shows, when <paramref name="wal"/>.</param>
    public static SecondPrimer Start(string? postgres, bool wal, bool writeback, Stopwatch clock) =>
        new(wal ? WalFlushes.TryOpen(postgres) : null, writeback ? DiskWrites.TryOpen() : null, clock);

    public async ValueTask DisposeAsync()
    {
        await _line.DisposeAsync(); // waits for a run still going
        _wal?.Dispose();
        await _sink.DisposeAsync();
    }
}
