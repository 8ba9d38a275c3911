using System.Globalization;

namespace CouponGrains.LoadTests;

public sealed record Settings(
    Uri Url, string Key, string? Postgres, string[] Scenarios, string Model, int Concurrency, int Rate,
    TimeSpan WarmUp, TimeSpan Duration, int Connections, string OutDir, string Driver, string ClusterId)
{
    public static Settings Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : Environment.GetEnvironmentVariable("LOAD_" + name.ToUpperInvariant()) ?? fallback;
        }

        var shortMode = args.Contains("--short");
        return new Settings(
            new Uri(Get("url", "http://127.0.0.1:8080")),
            Get("key", Environment.GetEnvironmentVariable("Api__BootstrapAdminKey") ?? ""),
            Get("postgres", Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? "") is { Length: > 0 } pg ? pg : null,
            Get("scenarios", "hot,spread") is "all" ? Scenario.All : Get("scenarios", "hot,spread").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Get("model", "closed"),
            int.Parse(Get("concurrency", "128"), CultureInfo.InvariantCulture),
            int.Parse(Get("rate", "2000"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Get("warmup", shortMode ? "1" : "3"), CultureInfo.InvariantCulture)),
            TimeSpan.FromSeconds(double.Parse(Get("duration", shortMode ? "4" : "15"), CultureInfo.InvariantCulture)),
            int.Parse(Get("connections", "256"), CultureInfo.InvariantCulture),
            Get("out", "loadtests/reports"),
            Get("driver", "http"),
            Get("cluster", "coupongrains"));
    }
}
