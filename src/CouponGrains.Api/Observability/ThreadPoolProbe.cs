using System.Diagnostics;
using System.Diagnostics.Metrics;
using CouponGrains.Contracts;
using Microsoft.Extensions.Hosting;

namespace CouponGrains.Api.Observability;

/// <summary>
/// How long work waits in the .NET thread pool's global queue before a worker runs it: every
/// <see cref="ObservabilityOptions.ThreadPoolProbeMilliseconds"/> a thread of its own queues one probe there and the probe
/// records its own wait on the histogram <c>coupongrains.threadpool.queue.duration</c>.
/// <para>
/// The socket engine queues every completed read the same way, so this is also how long a request that has arrived
/// waits before Kestrel parses it, time that no request duration counts (<c>http.server.request.duration</c> starts
/// once the request is parsed). When the load console's latency runs well above the server's own, this says whether
/// the difference is the silo's queue. The grains' turns mostly go to the workers' own queues, which a worker serves
/// before the global one, so under load this wait is longer than a grain turn's.
/// </para>
/// </summary>
public sealed class ThreadPoolProbe : BackgroundService
{
    /// <summary>A tenth of a millisecond to two and a half seconds: an idle pool answers in microseconds.</summary>
    private static readonly double[] s_buckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Histogram<double> _wait;
    private readonly TimeSpan _interval;
    private readonly Action<long> _probe;

    public ThreadPoolProbe(IMeterFactory meters, ObservabilityOptions options)
    {
        _interval = TimeSpan.FromMilliseconds(options.ThreadPoolProbeMilliseconds);
        _wait = meters.Create(ProductMeter.Name).CreateHistogram("coupongrains.threadpool.queue.duration", "s",
            "How long a work item queued to the thread pool's global queue (as a socket's completed read is) waited for a worker.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_buckets });
        _probe = queuedAt => _wait.Record(Stopwatch.GetElapsedTime(queuedAt).TotalSeconds);
    }

    /// <summary>Runs until the host stops: the returned task ends when the probe's thread does (at once when off).</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        // A thread outside the pool, so that each probe enters the global queue (a worker would queue to its own) and
        // the probe's timing does not itself wait for a worker.
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Run(stoppingToken);
            ended.SetResult();
        }) { IsBackground = true, Name = "CouponGrains pool probe" };
        thread.Start();
        return ended.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        while (!stoppingToken.WaitHandle.WaitOne(_interval))
        {
            ThreadPool.UnsafeQueueUserWorkItem(_probe, Stopwatch.GetTimestamp(), preferLocal: false);
        }
    }
}
