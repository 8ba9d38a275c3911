using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CouponGrains.LoadTests;

/// <summary>
/// Where in a run the slow seconds fall, across many runs: for each measured second, in how many open-model runs of the
/// reports in a folder it was a slow second (<see cref="SlowSecond"/>), its mean p99 against the run's
/// median, and the MB written to disk in it where the report has them. Slow seconds at the same place in most runs
/// point at something periodic (the kernel's writeback of PostgreSQL's new pages, about every 30 s, on the bench's box),
/// not at the load. <c>--slow-positions DIR</c>.
/// </summary>
public static class SlowPositions
{
    public sealed record Position(int Second, int Runs, int Slow, double MeanRatio, double? MeanWrittenMb);

    /// <summary>The positions over every open-model scenario with a timeline in the JSON reports given.</summary>
    public static IReadOnlyList<Position> Of(IEnumerable<string> reportsJson)
    {
        var seen = new SortedDictionary<int, (int Runs, int Slow, double Ratios, double Written, int WithWritten)>();
        foreach (var json in reportsJson)
        {
            if (JsonNode.Parse(json)?["scenarios"] is not JsonArray scenarios)
            {
                continue;
            }

            foreach (var scenario in scenarios.OfType<JsonObject>())
            {
                if (scenario["model"]?.GetValue<string>() is not { } model || !model.StartsWith("open", StringComparison.Ordinal)
                    || scenario["timeline"] is not JsonArray timeline)
                {
                    continue;
                }

                var seconds = timeline.OfType<JsonObject>().Where(t => t["answers"]?.GetValue<long>() > 0).ToList();
                if (seconds.Count < SlowSecond.MinSeconds)
                {
                    continue;
                }

                var median = SlowSecond.Median(seconds.Select(t => t["p99"]!.GetValue<double>()));
                for (var i = 0; i < seconds.Count; i++)
                {
                    var p99 = seconds[i]["p99"]!.GetValue<double>();
                    var written = seconds[i]["writtenMb"]?.GetValue<double>();
                    seen.TryGetValue(i + 1, out var at);
                    seen[i + 1] = (at.Runs + 1, at.Slow + (SlowSecond.Is(p99, median) ? 1 : 0), at.Ratios + (median > 0 ? p99 / median : 0),
                        at.Written + (written ?? 0), at.WithWritten + (written is null ? 0 : 1));
                }
            }
        }

        return seen.Select(p => new Position(p.Key, p.Value.Runs, p.Value.Slow, Math.Round(p.Value.Ratios / p.Value.Runs, 2),
            p.Value.WithWritten == 0 ? null : Math.Round(p.Value.Written / p.Value.WithWritten, 1))).ToList();
    }

    /// <summary>A Markdown table of <see cref="Of"/> for the <c>load-*.json</c> reports in <paramref name="folder"/>.</summary>
    public static string Table(string folder)
    {
        var reports = Directory.GetFiles(folder, "load-*.json").Order(StringComparer.Ordinal).ToArray();
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Slow seconds by position over the open-model runs of {reports.Length} reports in {folder}:");
        md.AppendLine();
        md.AppendLine("| second | runs | slow (p99 over 2× the run's median second) | mean p99 / median | mean MB to disk |");
        md.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var p in Of(reports.Select(File.ReadAllText)))
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Second} | {p.Runs} | {p.Slow} | {p.MeanRatio:F2} | {p.MeanWrittenMb?.ToString("F1", CultureInfo.InvariantCulture) ?? "-"} |");
        }

        return md.ToString();
    }
}
