using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CouponGrains.Api.Observability;
using CouponGrains.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>
/// The thread pool probe: how long a work item waits in the pool's global queue, on the histogram
/// <c>coupongrains.threadpool.queue.duration</c>. Each test listens only to the meters of its own factory, so the silos
/// of other tests in this process, which run probes of their own, add nothing to what it reads.
/// </summary>
public sealed class ThreadPoolProbeTests
{
    private const string Instrument = "coupongrains.threadpool.queue.duration";

    [Fact]
    public async Task RecordsHowLongEachProbeWaited()
    {
        using var probe = new ProbeUnderTest(intervalMilliseconds: 5);
        await probe.StartAsync();

        var waits = await probe.WaitForAsync(20, _ => true);
        Assert.All(waits, w => Assert.InRange(w, 0, 2.5));
        Assert.False(probe.Service.ExecuteTask!.IsCompleted, "the probe stopped on its own");

        await probe.Service.StopAsync(CancellationToken.None);
        await probe.Service.ExecuteTask.WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Work queued ahead of the probe, a thousand items that each keep a worker a millisecond: the probe queued behind
    /// them waits while the workers get through them, however many workers the pool has grown to (up to 200).
    /// </summary>
    [Fact]
    public async Task AProbeBehindQueuedWorkWaitsForIt()
    {
        using var probe = new ProbeUnderTest(intervalMilliseconds: 5);
        await probe.StartAsync();
        await probe.WaitForAsync(1, _ => true);

        var busy = new CountdownEvent(1000);
        for (var i = 0; i < 1000; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem<CountdownEvent>(done =>
            {
                var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
                while (Stopwatch.GetTimestamp() < until)
                {
                    Thread.SpinWait(20);
                }

                done.Signal();
            }, busy, preferLocal: false);
        }

        var slow = await probe.WaitForAsync(1, w => w >= 0.005);
        Assert.True(slow[0] >= 0.005, $"the longest wait seen was {slow[0] * 1000:F2} ms");
        Assert.True(busy.Wait(TimeSpan.FromSeconds(30)), "the queued work did not finish");
    }

    [Fact]
    public async Task AnIntervalOfZeroRunsNoProbe()
    {
        using var probe = new ProbeUnderTest(intervalMilliseconds: 0);
        await probe.StartAsync();

        // The loop returns at once when off; while on, it runs until the host stops (the first test).
        await probe.Service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(probe.Recorded);
    }

    /// <summary>A probe on a meter factory of its own, and a listener for that factory's histogram alone.</summary>
    private sealed class ProbeUnderTest : IDisposable
    {
        private readonly ServiceProvider _services;
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<double> _recorded = new();
        private readonly SemaphoreSlim _each = new(0);

        public ProbeUnderTest(int intervalMilliseconds)
        {
            _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var factory = _services.GetRequiredService<IMeterFactory>();
            Service = new ThreadPoolProbe(factory, new ObservabilityOptions { ThreadPoolProbeMilliseconds = intervalMilliseconds });
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == ProductMeter.Name && instrument.Name == Instrument)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                _recorded.Enqueue(value);
                _each.Release();
            });
            _listener.Start();
        }

        public ThreadPoolProbe Service { get; }

        public IReadOnlyCollection<double> Recorded => _recorded;

        public Task StartAsync() => Service.StartAsync(CancellationToken.None);

        /// <summary>Until <paramref name="count"/> waits that match have been recorded (10 s at most); returns them.</summary>
        public async Task<double[]> WaitForAsync(int count, Func<double, bool> match)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (_recorded.Count(match) < count)
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero && await _each.WaitAsync(left),
                    $"{_recorded.Count(match)} of {count} matching waits recorded; the longest was {_recorded.DefaultIfEmpty().Max() * 1000:F2} ms");
            }

            return _recorded.Where(match).OrderDescending().ToArray();
        }

        public void Dispose()
        {
            Service.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            Service.Dispose();
            _listener.Dispose();
            _services.Dispose();
        }
    }
}
