using System.Globalization;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>Reading a <c>/metrics</c> scrape (Prometheus text): each sample line ends with its value after the last space.</summary>
public static class MetricsText
{
    /// <summary>The sum of the values of the sample lines that <paramref name="takes"/> accepts.</summary>
    public static double Sum(string scrape, Func<string, bool> takes) =>
        scrape.Split('\n').Where(takes).Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
