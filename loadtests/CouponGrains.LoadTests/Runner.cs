using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using HdrHistogram;

namespace CouponGrains.LoadTests;

public sealed record Acknowledged(string Id, int Campaign, long Discount);

/// <summary>What one measured run saw.</summary>
public sealed class RunStats
{
    public LongHistogram Latency { get; } = new(TimeStamp.Minutes(1), 3);
    public ConcurrentDictionary<string, long> Outcomes { get; } = new();
    public ConcurrentBag<Acknowledged> Acked { get; } = [];
    public long Ok;
    public long Failed;
    public long Bytes;
    public TimeSpan Elapsed;

    public double Rps => (Ok + Failed) / Elapsed.TotalSeconds;
}

/// <summary>
/// Drives redemptions. Closed model: N users, each sends when its previous answer arrives. Open model:
/// a constant arrival rate; latency is measured from each request's intended send time, so a stall
/// shows up in the percentiles instead of silently slowing the sender (no coordinated omission).
/// </summary>
public static class Runner
{
    private static readonly System.Net.Http.Headers.MediaTypeHeaderValue s_json = new("application/json");

    public static async Task<RunStats> RunAsync(Scenario scenario, HttpClient http, Settings settings, TimeSpan duration, bool record)
    {
        var stats = new RunStats();
        var clock = Stopwatch.StartNew();
        long sequence = Random.Shared.NextInt64(1L << 40);
        using var progress = new Timer(_ => Console.Error.Write(
            $"\r  {clock.Elapsed.TotalSeconds,5:F1}s  ok {stats.Ok,8}  fail {stats.Failed,6}  rps {(stats.Ok + stats.Failed) / Math.Max(0.001, clock.Elapsed.TotalSeconds),8:F0}   "),
            null, 1000, 1000);
        if (settings.Model == "open")
        {
            var interval = Stopwatch.Frequency / (double)settings.Rate;
            var inFlight = new List<Task>();
            var start = Stopwatch.GetTimestamp();
            for (long n = 0; ; n++)
            {
                var intended = start + (long)(n * interval);
                if (intended - start > duration.TotalSeconds * Stopwatch.Frequency)
                {
                    break;
                }

                var wait = intended - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                }

                inFlight.Add(SendAsync(scenario, http, stats, Interlocked.Increment(ref sequence), intended, record, Random.Shared));
                if (inFlight.Count > 50_000)
                {
                    inFlight.RemoveAll(t => t.IsCompleted);
                }
            }

            await Task.WhenAll(inFlight);
        }
        else
        {
            var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(async u =>
            {
                var random = new Random(u * 7919 + 17);
                while (Stopwatch.GetTimestamp() < until)
                {
                    await SendAsync(scenario, http, stats, Interlocked.Increment(ref sequence), Stopwatch.GetTimestamp(), record, random);
                }
            }));
        }

        stats.Elapsed = clock.Elapsed;
        Console.Error.WriteLine();
        return stats;
    }

    private static async Task SendAsync(Scenario scenario, HttpClient http, RunStats stats, long sequence, long intended, bool record, Random random)
    {
        var (campaign, order) = scenario.Next(random, sequence);
        using var content = new ByteArrayContent(order);
        content.Headers.ContentType = s_json;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/redemptions") { Content = content };
        request.Headers.Add("Idempotency-Key", $"load-{sequence}");
        string outcome;
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            Interlocked.Add(ref stats.Bytes, body.Length);
            using var json = body.Length > 0 ? JsonDocument.Parse(body) : null;
            if (response.StatusCode == HttpStatusCode.Created)
            {
                Interlocked.Increment(ref stats.Ok);
                outcome = "201";
                if (record)
                {
                    var root = json!.RootElement;
                    stats.Acked.Add(new Acknowledged(root.GetProperty("id").GetString()!, campaign, root.GetProperty("discount").GetInt64()));
                }
            }
            else
            {
                Interlocked.Increment(ref stats.Failed);
                outcome = $"{(int)response.StatusCode} {(json?.RootElement.TryGetProperty("code", out var c) == true ? c.GetString() : "")}";
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref stats.Failed);
            outcome = ex.GetType().Name;
        }

        if (record)
        {
            var micros = (Stopwatch.GetTimestamp() - intended) * 1_000_000 / Stopwatch.Frequency;
            lock (stats.Latency)
            {
                stats.Latency.RecordValue(Math.Max(1, micros));
            }

            stats.Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        }
    }
}
