using System.Diagnostics;
using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

public sealed class ProgressLineTests
{
    [Fact]
    public async Task ARedrawStillRunningWhenTheRunEndsFinishesBeforeTheLineIsEnded()
    {
        var output = new HeldWriter();
        var progress = ProgressLine.Start(new RunStats(), Stopwatch.StartNew(), wal: null, writeback: null, output, TimeSpan.FromMilliseconds(5));
        output.HoldNextRedraw();
        Assert.True(output.RedrawHeld.Wait(TimeSpan.FromSeconds(10)), "no redraw came");

        // The run ends while a redraw is being written.
        var ending = progress.DisposeAsync().AsTask();
        await Task.Delay(TimeSpan.FromMilliseconds(50));
        output.ReleaseRedraw();
        await ending.WaitAsync(TimeSpan.FromSeconds(10));

        var ended = output.Text;
        Assert.StartsWith("\r", ended);
        Assert.EndsWith(Environment.NewLine, ended);
        await Task.Delay(TimeSpan.FromMilliseconds(100)); // twenty periods: a redraw still scheduled would have come
        Assert.Equal(ended, output.Text);
    }

    /// <summary>A writer the timer's thread and the test share, which can hold one redraw in the middle of its write.</summary>
    private sealed class HeldWriter : StringWriter
    {
        private readonly Lock _gate = new();
        private readonly ManualResetEventSlim _release = new(true);
        private int _hold;

        public ManualResetEventSlim RedrawHeld { get; } = new(false);

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return ToString();
                }
            }
        }

        public void HoldNextRedraw()
        {
            _release.Reset();
            Volatile.Write(ref _hold, 1);
        }

        public void ReleaseRedraw() => _release.Set();

        public override void Write(string? value)
        {
            if (Interlocked.Exchange(ref _hold, 0) == 1)
            {
                RedrawHeld.Set();
                _release.Wait();
            }

            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override Task WriteLineAsync()
        {
            lock (_gate)
            {
                base.WriteLine();
            }

            return Task.CompletedTask;
        }
    }
}
