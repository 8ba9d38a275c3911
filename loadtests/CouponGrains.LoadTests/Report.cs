using HdrHistogram;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CouponGrains.LoadTests;

public sealed record ScenarioReport(string Name, string Model, RunStats Stats, List<InvariantResult> Invariants)
{
    private double Ms(double percentile) => Stats.Latency.TotalCount == 0 ? 0 : Stats.Latency.GetValueAtPercentile(percentile) / 1000.0;

    private double LagMs(double percentile) => Stats.SendLag.GetValueAtPercentile(percentile) / 1000.0;

    private bool HasLag => Stats.SendLag.TotalCount > 0;

    public object ToJson() => new
    {
        scenario = Name,
        model = Model,
        ok = Stats.Ok,
        fail = Stats.Failed,
        rps = Math.Round(Stats.Rps, 1),
        bytes = Stats.Bytes,
        seconds = Math.Round(Stats.Elapsed.TotalSeconds, 2),
        latencyMs = new
        {
            min = Stats.Latency.TotalCount == 0 ? 0 : Stats.Latency.LowestEquivalentValue(Stats.Latency.RecordedValues().First().ValueIteratedTo) / 1000.0,
            mean = Math.Round(Stats.Latency.GetMean() / 1000.0, 3),
            p50 = Ms(50), p75 = Ms(75), p95 = Ms(95), p99 = Ms(99),
            max = Stats.Latency.GetMaxValue() / 1000.0,
        },
        sendLagMs = HasLag ? new { p50 = LagMs(50), p99 = LagMs(99), max = Stats.SendLag.GetMaxValue() / 1000.0 } : null,
        outcomes = Stats.Outcomes.OrderBy(o => o.Key).ToDictionary(o => o.Key, o => o.Value),
        timeline = Stats.Timeline.Select(t => new { seconds = t.At, utc = t.Utc, answers = t.Count, p50 = t.P50, p99 = t.P99, max = t.Max, walFlushes = t.WalFlushes, flushMs = t.FlushMs, writtenMb = t.WrittenMb }),
        slowSeconds = SlowSeconds() is { } slow
            ? new { slow.Seconds, slow.Of, slow.FlushMs, slow.OtherFlushMs, slow.Flushes, slow.OtherFlushes, slow.WrittenMb, slow.OtherWrittenMb }
            : null,
        invariants = Invariants.Select(i => new { i.Name, i.Violations, i.Detail }),
    };

    /// <summary>
    /// The seconds whose p99 is above twice the median second's p99, and the WAL flushes in them against the other
    /// seconds (mean duration and flushes a second), and the MB written to the machine's disks a second in them against
    /// the others when that was sampled. Null when there is no timeline or flushes were not timed.
    /// </summary>
    public (int Seconds, int Of, double FlushMs, double OtherFlushMs, double Flushes, double OtherFlushes, double? WrittenMb, double? OtherWrittenMb)? SlowSeconds()
    {
        var timed = Stats.Timeline.Where(t => t.Count > 0 && t.FlushMs is not null).ToList();
        if (timed.Count < SlowSecond.MinSeconds)
        {
            return null;
        }

        var median = SlowSecond.Median(timed.Select(t => t.P99));
        var slow = timed.Where(t => SlowSecond.Is(t.P99, median)).ToList();
        var other = timed.Where(t => !SlowSecond.Is(t.P99, median)).ToList();
        var sampled = timed.All(t => t.WrittenMb is not null);
        return (slow.Count, timed.Count, Mean(slow, t => t.FlushMs!.Value), Mean(other, t => t.FlushMs!.Value),
            Mean(slow, t => t.WalFlushes!.Value), Mean(other, t => t.WalFlushes!.Value),
            sampled ? Mean(slow, t => t.WrittenMb!.Value) : null, sampled ? Mean(other, t => t.WrittenMb!.Value) : null);

        static double Mean(List<SecondStats> seconds, Func<SecondStats, double> value) =>
            seconds.Count == 0 ? 0 : Math.Round(seconds.Average(value), 2);
    }

    public string Summary() =>
        $"[{Name}] ok {Stats.Ok} fail {Stats.Failed} rps {Stats.Rps:F0} p50 {Ms(50):F2} ms p99 {Ms(99):F2} ms max {Stats.Latency.GetMaxValue() / 1000.0:F1} ms; " +
        (HasLag ? $"send lag p50 {LagMs(50):F2} ms p99 {LagMs(99):F2} ms; " : "") +
        $"invariant violations {Invariants.Sum(i => i.Violations)}" +
        (SlowSeconds() is { Seconds: > 0 } slow
            ? $"; {slow.Seconds} of {slow.Of} seconds at over twice the median p99, with WAL flushes of {slow.FlushMs:F2} ms against {slow.OtherFlushMs:F2} ms" +
              (slow.WrittenMb is { } written ? $" and {written:F1} MB a second written to disk against {slow.OtherWrittenMb:F1} MB" : "")
            : "");

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {Name} ({Model})");
        md.AppendLine();
        md.AppendLine("| ok | fail | rps | min ms | mean ms | p50 | p75 | p95 | p99 | max ms | bytes |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"| {Stats.Ok} | {Stats.Failed} | {Stats.Rps:F0} | {(Stats.Latency.TotalCount == 0 ? 0 : Stats.Latency.RecordedValues().First().ValueIteratedTo / 1000.0):F2} | {Stats.Latency.GetMean() / 1000.0:F2} | {Ms(50):F2} | {Ms(75):F2} | {Ms(95):F2} | {Ms(99):F2} | {Stats.Latency.GetMaxValue() / 1000.0:F1} | {Stats.Bytes} |");
        if (HasLag)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Send lag (how late requests left the console against their intended time; part of the latency above): p50 {LagMs(50):F2} ms, p99 {LagMs(99):F2} ms, max {Stats.SendLag.GetMaxValue() / 1000.0:F1} ms.");
        }

        md.AppendLine();
        md.AppendLine("| outcome | count |");
        md.AppendLine("|---|---:|");
        foreach (var (k, v) in Stats.Outcomes.OrderBy(o => o.Key))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {k} | {v} |");
        }

        if (Stats.Timeline.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Each second (answers in it, their latency in ms; PostgreSQL's WAL flushes in it and their mean ms; MB written to this " +
                "machine's disks in it):");
            md.AppendLine();
            md.AppendLine("| s | answers | p50 | p99 | max | WAL flushes | flush ms | MB to disk |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var t in Stats.Timeline)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {t.At:F0} | {t.Count} | {t.P50:F1} | {t.P99:F1} | {t.Max:F1} | {t.WalFlushes?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {t.FlushMs?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} | {t.WrittenMb?.ToString("F1", CultureInfo.InvariantCulture) ?? "-"} |");
            }

            if (SlowSeconds() is { } slow)
            {
                var writeback = slow.WrittenMb is { } written
                    ? string.Create(CultureInfo.InvariantCulture, $" The machine wrote {written:F1} MB a second to its disks in them, {slow.OtherWrittenMb:F1} MB in the others.")
                    : "";
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"Seconds with a p99 above twice the median second's: {slow.Seconds} of {slow.Of}. WAL flushes in them: {slow.Flushes:F0} a second of {slow.FlushMs:F2} ms, " +
                    $"against {slow.OtherFlushes:F0} a second of {slow.OtherFlushMs:F2} ms in the others.{writeback}");
            }
        }

        md.AppendLine();
        md.AppendLine("| invariant | violations | detail |");
        md.AppendLine("|---|---:|---|");
        foreach (var i in Invariants)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {i.Name} | {i.Violations} | {i.Detail} |");
        }

        return md.ToString();
    }
}

/// <summary>
/// What makes a second slow, for a report's own summary and for <see cref="SlowPositions"/> across reports alike: its
/// p99 over twice the median second's, in a timeline of at least <see cref="MinSeconds"/> seconds with answers.
/// </summary>
public static class SlowSecond
{
    public const int MinSeconds = 4;

    /// <summary>The median second's p99 (the upper one of an even count).</summary>
    public static double Median(IEnumerable<double> p99s)
    {
        var sorted = p99s.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    public static bool Is(double p99, double median) => p99 > 2 * median;
}

public static class Report
{
    /// <summary>The commit under test, so reports from two runs can be told apart and diffed.</summary>
    private static string Commit()
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse --short HEAD")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            var sha = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && sha.Length > 0 ? sha : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    public static void Write(Settings settings, List<ScenarioReport> reports)
    {
        Directory.CreateDirectory(settings.OutDir);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, commit {Commit()}";
        var header = $"# CouponGrains load report {stamp}\n\nMachine: {machine}. Model: {settings.Model}, concurrency {settings.Concurrency}, rate {settings.Rate}/s, " +
                     $"duration {settings.Duration.TotalSeconds}s after {settings.WarmUp.TotalSeconds}s warm-up, target {settings.Url}.\n\n";
        File.WriteAllText(Path.Combine(settings.OutDir, $"load-{stamp}.md"), header + string.Join("\n", reports.Select(r => r.ToMarkdown())));
        File.WriteAllText(Path.Combine(settings.OutDir, $"load-{stamp}.json"), JsonSerializer.Serialize(new
        {
            machine, settings = new { settings.Model, settings.Concurrency, settings.Rate, duration = settings.Duration.TotalSeconds, url = settings.Url },
            scenarios = reports.Select(r => r.ToJson()),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine($"reports written to {settings.OutDir}/load-{stamp}.md and .json");
    }
}
