using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CouponGrains.LoadTests;

// The load console: scenarios against the HTTP API, latency in HdrHistogram, an invariant check
// against PostgreSQL after each scenario, Markdown + JSON reports. Exits non-zero on a broken invariant.
if (args is ["--slow-positions", var folder])
{
    Console.Write(SlowPositions.Table(folder));
    return 0;
}

var settings = Settings.Parse(args);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = settings.Url,
    Timeout = TimeSpan.FromSeconds(30),
};
http.DefaultRequestHeaders.Add("X-Api-Key", settings.Key);

await using var grains = settings.Driver == "grain" ? await GrainDriver.ConnectAsync(settings) : null;
using var wal = WalFlushes.TryOpen(settings.Postgres);
var writeback = DiskWrites.TryOpen();
var reports = new List<ScenarioReport>();
foreach (var name in settings.Scenarios)
{
    var scenario = await Scenario.SetUpAsync(name, http, settings);
    Console.Error.WriteLine($"[{name}] warm-up {settings.WarmUp.TotalSeconds}s, then {settings.Model} for {settings.Duration.TotalSeconds}s");
    // A cap race warmed up would spend its budget before the measurement starts.
    if (name != "caprace")
    {
        await Runner.RunAsync(scenario, http, grains, settings, settings.WarmUp, record: false, wal, writeback);
    }

    var stats = await Runner.RunAsync(scenario, http, grains, settings, settings.Duration, record: true, wal, writeback);
    var invariants = await Invariants.CheckAsync(settings.Postgres, http, scenario, stats);
    reports.Add(new ScenarioReport(name, $"{settings.Model}, {settings.Driver} driver", stats, invariants));
    Console.Error.WriteLine(reports[^1].Summary());
}

Report.Write(settings, reports);
return reports.All(r => r.Invariants.All(i => i.Violations == 0)) ? 0 : 1;
