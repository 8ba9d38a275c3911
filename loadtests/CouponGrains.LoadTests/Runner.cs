using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using HdrHistogram;

namespace CouponGrains.LoadTests;

public sealed record Acknowledged(string Id, int Campaign, long Discount, string IdempotencyKey);

/// <summary>A redemption refused by a cap (a 409 naming it), with the dealer and branch it was for and when the answer arrived.</summary>
public sealed record CapRefusal(int Campaign, string DealerId, string BranchId, string Code, DateTime AnsweredAt);

/// <summary>
/// The answers of one progress window: count and latency percentiles in milliseconds, and PostgreSQL's WAL flushes
/// in it with their mean duration when they were sampled (<see cref="WalFlushes"/>). <see cref="Utc"/> is when the window
/// closed, to line a slow second up with the server's logs, metrics or traces.
/// </summary>
public sealed record SecondStats(double At, long Count, double P50, double P99, double Max, long? WalFlushes = null, double? FlushMs = null)
{
    public DateTime Utc { get; init; }

    /// <summary>MB written to this machine's disks in the window, when sampled (<see cref="DiskWrites"/>).</summary>
    public double? WrittenMb { get; init; }
}

/// <summary>What one measured run saw.</summary>
public sealed class RunStats
{
    public LongHistogram Latency { get; } = new(TimeStamp.Minutes(1), 3);

    /// <summary>
    /// Open model only: how late each request left the console against its intended send time, in microseconds. It
    /// is part of <see cref="Latency"/> (which counts from the intended time), and shows how much of it is the load
    /// generator's own delay on a shared machine rather than the system's.
    /// </summary>
    public LongHistogram SendLag { get; } = new(TimeStamp.Minutes(1), 3);

    /// <summary>The latencies recorded since the last <see cref="TakeSecond"/>: what the progress line and the timeline show.</summary>
    private readonly LongHistogram _second = new(TimeStamp.Minutes(1), 3);

    /// <summary>One entry per progress tick: when, how many answers, their p50, p99 and max.</summary>
    public List<SecondStats> Timeline { get; } = [];
    public ConcurrentDictionary<string, long> Outcomes { get; } = new();
    /// <summary>
    /// Every 201, with its idempotency key: the invariants group them by key at the end. A bag per key, kept while the
    /// run went on, had been a dictionary entry, a bag and its thread-local queue for each request, which the console's
    /// older generations then had to collect around.
    /// </summary>
    public ConcurrentBag<Acknowledged> Acked { get; } = [];
    public ConcurrentBag<string> Reversed { get; } = [];
    public ConcurrentBag<CapRefusal> Refusals { get; } = [];
    public long Ok;
    public long Failed;
    public long Bytes;
    public TimeSpan Elapsed;

    public double Rps => (Ok + Failed) / Elapsed.TotalSeconds;

    private static long MicrosSince(long timestamp) => (Stopwatch.GetTimestamp() - timestamp) * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Notes how late a request of the open model is sent (warm-up requests are left out).</summary>
    public void RecordSendLag(long intended, bool kept)
    {
        if (!kept)
        {
            return;
        }

        var micros = Math.Max(0, MicrosSince(intended));
        lock (SendLag)
        {
            SendLag.RecordValue(micros);
        }
    }

    /// <summary>Closes the current window (about a second) and starts the next; a stall shows here as one bad second.</summary>
    public SecondStats TakeSecond(double at, (long Flushes, double? MeanMs)? wal = null, double? writtenMb = null)
    {
        lock (Latency)
        {
            var window = (_second.TotalCount == 0
                ? new SecondStats(Math.Round(at, 1), 0, 0, 0, 0)
                : new SecondStats(Math.Round(at, 1), _second.TotalCount, _second.GetValueAtPercentile(50) / 1000.0,
                    _second.GetValueAtPercentile(99) / 1000.0, _second.GetMaxValue() / 1000.0)) with
            {
                WalFlushes = wal?.Flushes,
                FlushMs = wal?.MeanMs,
                WrittenMb = writtenMb,
                Utc = DateTime.UtcNow,
            };
            _second.Reset();
            Timeline.Add(window);
            return window;
        }
    }

    /// <summary>
    /// Records one exchange: latency from its intended start, and its outcome. A warm-up exchange
    /// (<paramref name="kept"/> false) shows only in the progress line's last second.
    /// </summary>
    public void Record(long intended, string outcome, bool kept = true)
    {
        var micros = Math.Max(1, MicrosSince(intended));
        lock (Latency)
        {
            _second.RecordValue(micros);
            if (kept)
            {
                Latency.RecordValue(micros);
            }
        }

        if (kept)
        {
            Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        }
    }
}

/// <summary>
/// Drives redemptions. Closed model: N users, each sends when its previous answer arrives. Open model:
/// a constant arrival rate; latency is measured from each request's intended send time, so a stall
/// shows up in the percentiles instead of silently slowing the sender (no coordinated omission).
/// </summary>
public static class Runner
{
    public static async Task<RunStats> RunAsync(Scenario scenario, HttpClient http, GrainDriver? grains, Settings settings, TimeSpan duration, bool record,
        WalFlushes? wal = null, DiskWrites? writeback = null)
    {
        var stats = new RunStats();
        wal?.Take(); // the first second counts from here, not from the scenario before
        writeback?.Take();
        var clock = Stopwatch.StartNew();
        long sequence = Random.Shared.NextInt64(1L << 40);
        await using var progress = ProgressLine.Start(stats, clock, wal, writeback, Console.Error);
        await using var primer = record ? null : SecondPrimer.Start(settings.Postgres, wal is not null, writeback is not null, clock);
        if (settings.Model == "open")
        {
            var inFlight = await Pace(settings.Rate, duration, scenario.Demand, intended =>
            {
                stats.RecordSendLag(intended, record);
                return SendAsync(scenario, http, grains, stats, Interlocked.Increment(ref sequence), intended, record, Random.Shared);
            });
            await Task.WhenAll(inFlight);
        }
        else
        {
            var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long sent = 0;
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(async u =>
            {
                var random = new Random(u * 7919 + 17);
                while (Stopwatch.GetTimestamp() < until && !(Interlocked.Increment(ref sent) > scenario.Demand))
                {
                    await SendAsync(scenario, http, grains, stats, Interlocked.Increment(ref sequence), Stopwatch.GetTimestamp(), record, random);
                }
            }));
        }

        stats.Elapsed = clock.Elapsed;
        return stats;
    }

    /// <summary>One progress window: the answers, WAL flushes and disk writes since the last, as a line on <paramref name="output"/>.</summary>
    internal static void Tick(RunStats stats, Stopwatch clock, WalFlushes? wal, DiskWrites? writeback, TextWriter output)
    {
        var second = stats.TakeSecond(clock.Elapsed.TotalSeconds, wal?.Take(), writeback?.Take());
        output.Write(
            $"\r  {clock.Elapsed.TotalSeconds,5:F1}s  ok {stats.Ok,8}  fail {stats.Failed,6}  rps {(stats.Ok + stats.Failed) / Math.Max(0.001, clock.Elapsed.TotalSeconds),8:F0}" +
            $"  last second: {second.Count,6} answers p50 {second.P50,7:F1} ms p99 {second.P99,7:F1} ms max {second.Max,7:F1} ms" +
            (second.FlushMs is { } flush ? $"  WAL flushes {second.WalFlushes,4} of {flush,5:F2} ms" : "") +
            (second.WrittenMb is { } written ? $"  to disk {written,6:F1} MB   " : "   "));
    }

    /// <summary>
    /// The open model's sender: a thread of its own, at raised priority, that wakes every millisecond or so and starts
    /// every request whose intended time has come, on that thread, up to its first await. It had been an async loop
    /// that awaited <c>Task.Delay</c> between requests; on a box whose cores the system under test keeps busy, each
    /// wake-up then queued behind the console's own answer handling, and requests left up to 9 ms (p99) after their
    /// intended time. Latency still counts from the intended time either way. (Sleeping to the microsecond instead,
    /// with <c>usleep</c>, cut the median lag from 0.63 to 0.08 ms but woke the thread for every request, 10–15 µs
    /// more of the console's CPU per request on the cores the system under test needs.)
    /// </summary>
    private static Task<List<Task>> Pace(int rate, TimeSpan duration, long? demand, Func<long, Task> send)
    {
        var interval = Stopwatch.Frequency / (double)rate;
        var end = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var sent = new TaskCompletionSource<List<Task>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Punctual.RaiseThisThread();
            try
            {
                var inFlight = new List<Task>();
                var start = Stopwatch.GetTimestamp();
                for (long n = 0; ; n++)
                {
                    var intended = start + (long)(n * interval);
                    if (intended - start > end || n >= demand)
                    {
                        break;
                    }

                    while (Stopwatch.GetTimestamp() < intended)
                    {
                        Thread.Sleep(1);
                    }

                    inFlight.Add(send(intended));
                    // A finished request's task keeps its state machine and what that held (request, response, body)
                    // for as long as it is listed: dropped every thousand sends rather than every 50,000, they die young
                    // instead of reaching the console's older generations.
                    if (inFlight.Count > 1_000)
                    {
                        inFlight.RemoveAll(t => t.IsCompleted);
                    }
                }

                sent.SetResult(inFlight);
            }
            catch (Exception ex)
            {
                sent.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "open-model sender",
        };
        thread.Start();
        return sent.Task;
    }

    private static Task SendAsync(Scenario scenario, HttpClient http, GrainDriver? grains, RunStats stats, long sequence, long intended,
        bool record, Random random) =>
        grains is null
            ? scenario.StepAsync(new Call(http, stats, record, intended), random, sequence)
            : grains.RedeemAsync(scenario, stats, record, intended, random, sequence);
}

/// <summary>One HTTP exchange, timed from the intended send time and counted by outcome.</summary>
public sealed record Call(HttpClient Http, RunStats Stats, bool Record, long Intended)
{
    private static readonly System.Net.Http.Headers.MediaTypeHeaderValue s_json = new("application/json");

    /// <summary>Sends and returns the status and parsed body (null on transport failure). The caller disposes the document.</summary>
    public async Task<(HttpStatusCode Status, JsonDocument? Body)> SendAsync(HttpMethod method, string path, byte[]? body, string? idempotencyKey)
    {
        var start = Intended == 0 ? Stopwatch.GetTimestamp() : Intended;
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = s_json;
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        string outcome;
        HttpStatusCode status = 0;
        JsonDocument? json = null;
        try
        {
            using var response = await Http.SendAsync(request);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Interlocked.Add(ref Stats.Bytes, bytes.Length);
            status = response.StatusCode;
            json = bytes.Length > 0 ? JsonDocument.Parse(bytes) : null;
            if ((int)status is >= 200 and < 300)
            {
                Interlocked.Increment(ref Stats.Ok);
                outcome = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                Interlocked.Increment(ref Stats.Failed);
                outcome = $"{(int)status} {(json?.RootElement.TryGetProperty("code", out var c) == true ? c.GetString() : "")}";
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref Stats.Failed);
            outcome = ex.GetType().Name;
        }

        Stats.Record(start, $"{method.Method} {outcome}", kept: Record);

        return (status, json);
    }
}
