using System.Text;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace CouponGrains.LoadTests;

/// <summary>What a scenario redeems against: its campaigns and codes, and how a request is drawn.</summary>
public sealed class Scenario
{
    public required string Name { get; init; }
    public required string[] Campaigns { get; init; }
    public required string[] Codes { get; init; }
    public required int Dealers { get; init; }
    public required long Discount { get; init; }
    private Zipf? _zipf;

    public const string DealerPrefix = "LD-";

    public static async Task<Scenario> SetUpAsync(string name, HttpClient http, Settings settings)
    {
        var (campaigns, dealers) = name switch
        {
            "hot" => (1, 500),
            "spread" => (settings.Duration.TotalSeconds < 10 ? 100 : 1000, 500),
            _ => throw new ArgumentException($"unknown scenario {name}: use hot or spread"),
        };
        var run = Guid.NewGuid().ToString("N")[..6];
        await Parallel.ForAsync(0, dealers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            (await http.PutAsJsonAsync($"/api/v1/dealers/{DealerPrefix}{i}", new
            {
                name = $"Load dealer {i}", region = "west", channelTier = "dealer",
                branches = new[] { new { id = $"{DealerPrefix}{i}-B", name = "main", region = "west" } },
            }, ct)).EnsureSuccessStatusCode();
        });
        var ids = new string[campaigns];
        var codes = new string[campaigns];
        await Parallel.ForAsync(0, campaigns, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var created = await http.PostAsJsonAsync("/api/v1/campaigns", new
            {
                name = $"{name} {i}", kind = "dealer_promo", currency = "INR", budget = 1_000_000_000_000L,
                validFrom = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ss"),
                validUntil = DateTime.UtcNow.AddDays(10).ToString("yyyy-MM-ddTHH:mm:ss"), timeZone = "Asia/Kolkata",
                discount = new { type = "percent", percent = 10, maxAmount = 50_000 },
                eligibility = new { categories = new[] { "brakes" }, minOrderValue = 10_000 },
                caps = new { perDealerAmount = 1_000_000_000_000L, perBranchRedemptions = 100_000_000, perCustomerRedemptions = 100_000_000 },
            }, ct);
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!.GetValue<string>();
            (await http.PostAsync($"/api/v1/campaigns/{id}/submit", null, ct)).EnsureSuccessStatusCode();
            (await http.PostAsync($"/api/v1/campaigns/{id}/approve", null, ct)).EnsureSuccessStatusCode();
            var code = $"LOAD{run}{i}".ToUpperInvariant();
            (await http.PostAsJsonAsync($"/api/v1/campaigns/{id}/coupons", new { code }, ct)).EnsureSuccessStatusCode();
            ids[i] = id;
            codes[i] = code;
        });
        return new Scenario { Name = name, Campaigns = ids, Codes = codes, Dealers = dealers, Discount = 50_000 };
    }

    /// <summary>
    /// The next order as UTF-8 JSON: campaign chosen Zipf-skewed for spread, dealer and customer
    /// uniformly. Written by hand so that the generator spends its CPU on sending, not on reflection.
    /// </summary>
    public (int Campaign, byte[] Body) Next(Random random, long sequence)
    {
        var campaign = Campaigns.Length == 1 ? 0 : (_zipf ??= new Zipf(Campaigns.Length, 1.0)).Sample(random);
        var dealer = random.Next(Dealers);
        var customer = random.Next(100_000);
        var body = FormattableString.Invariant(
            $$"""{"code":"{{Codes[campaign]}}","dealerId":"{{DealerPrefix}}{{dealer}}","branchId":"{{DealerPrefix}}{{dealer}}-B","orderId":"SO-{{sequence}}","region":"west","customer":{"id":"C-{{customer}}","tags":[]},"lines":[{"sku":"BP-220","category":"brakes","quantity":4,"unitPrice":185000,"unitCost":131000}]}""");
        return (campaign, Encoding.UTF8.GetBytes(body));
    }
}

/// <summary>Zipf over 0..n-1 by inverse CDF on a precomputed table.</summary>
public sealed class Zipf
{
    private readonly double[] _cdf;

    public Zipf(int n, double s)
    {
        _cdf = new double[n];
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, s);
            _cdf[i] = sum;
        }

        for (var i = 0; i < n; i++)
        {
            _cdf[i] /= sum;
        }
    }

    public int Sample(Random random)
    {
        var index = Array.BinarySearch(_cdf, random.NextDouble());
        return index >= 0 ? index : Math.Min(~index, _cdf.Length - 1);
    }
}
