using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Orders;

namespace CouponGrains.LoadTests;

/// <summary>
/// A named load scenario: what it sets up through the API (dealers, campaigns, codes) and what one
/// step of a virtual user does.
/// <list type="bullet">
/// <item><c>hot</c>: one public code, 500 dealers, every redemption on one campaign.</item>
/// <item><c>spread</c>: 1,000 campaigns (100 in short mode) chosen Zipf-skewed, 500 dealers.</item>
/// <item><c>mixed</c>: the hot campaign, 80 % validations and 20 % redemptions.</item>
/// <item><c>caprace</c>: demand of 5× a small budget, then no more; dealer caps and branch quotas bind in turn, and
/// with demand that ends, a refusal that was not final can leave its cap short at the end.</item>
/// <item><c>storm</c>: 20 % of redemptions re-sent 1–5 times, half of them concurrently.</item>
/// <item><c>churn</c>: redeem then reverse; the budget must end where it started.</item>
/// </list>
/// </summary>
public sealed class Scenario
{
    public const string DealerPrefix = "LD-";
    public const long Discount = 50_000;

    public required string Name { get; init; }
    public required string[] Campaigns { get; init; }
    public required string[] Codes { get; init; }
    public required int Dealers { get; init; }
    public long? DealerCap { get; init; }
    public int? BranchQuota { get; init; }
    public long Budget { get; init; }

    /// <summary>How many requests a run sends at most (null: as many as its duration allows).</summary>
    public long? Demand { get; init; }

    /// <summary>
    /// This set-up's own tag, in its codes and its customers' ids: the scenarios run one after another on one
    /// database, and each is to meet customers of its own, not the history (fraud flags, customer-dealer counts)
    /// that the one before left behind.
    /// </summary>
    public required string Run { get; init; }

    private Zipf? _zipf;

    public static readonly string[] All = ["hot", "spread", "mixed", "caprace", "storm", "churn"];

    public static async Task<Scenario> SetUpAsync(string name, HttpClient http, Settings settings)
    {
        var shortRun = settings.Duration.TotalSeconds < 10;
        var (campaigns, dealers, budget, dealerCap, branchQuota) = name switch
        {
            "hot" or "mixed" or "storm" or "churn" => (1, 500, 1_000_000_000_000L, (long?)null, (int?)null),
            "spread" => (shortRun ? 100 : 1000, 500, 1_000_000_000_000L, null, null),
            "caprace" => (1, shortRun ? 40 : 400, 200 * (shortRun ? 1 : 10) * Discount, (long?)(7 * Discount), (int?)4),
            _ => throw new ArgumentException($"unknown scenario {name}: use {string.Join(", ", All)}"),
        };
        var run = Guid.NewGuid().ToString("N")[..6];
        await Parallel.ForAsync(0, dealers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            (await http.PutAsJsonAsync($"/api/v1/dealers/{DealerPrefix}{i}", new
            {
                name = $"Load dealer {i}", region = "west", channelTier = "dealer",
                branches = new[] { new { id = $"{DealerPrefix}{i}-B", name = "main", region = "west" }, new { id = $"{DealerPrefix}{i}-C", name = "city", region = "west" } },
            }, ct)).EnsureSuccessStatusCode();
        });
        var ids = new string[campaigns];
        var codes = new string[campaigns];
        // Separation of duties: the key that creates a campaign may not approve it, so a finance key does.
        var financeKey = await CreateKeyAsync(http, "finance");
        await Parallel.ForAsync(0, campaigns, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var created = await http.PostAsJsonAsync("/api/v1/campaigns", new
            {
                name = $"{name} {i}", kind = "dealer_promo", currency = "INR", budget,
                validFrom = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ss"),
                validUntil = DateTime.UtcNow.AddDays(10).ToString("yyyy-MM-ddTHH:mm:ss"), timeZone = "Asia/Kolkata",
                discount = new { type = "percent", percent = 10, maxAmount = Discount },
                eligibility = new { categories = new[] { "brakes" }, minOrderValue = 10_000 },
                caps = new
                {
                    perDealerAmount = dealerCap ?? 1_000_000_000_000L,
                    perBranchRedemptions = branchQuota ?? 100_000_000,
                    perCustomerRedemptions = 100_000_000,
                },
            }, ct);
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!.GetValue<string>();
            (await http.PostAsync($"/api/v1/campaigns/{id}/submit", null, ct)).EnsureSuccessStatusCode();
            using var approve = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/approve");
            approve.Headers.Add("X-Api-Key", financeKey);
            (await http.SendAsync(approve, ct)).EnsureSuccessStatusCode();
            var code = $"LOAD{run}{i}".ToUpperInvariant();
            (await http.PostAsJsonAsync($"/api/v1/campaigns/{id}/coupons", new { code }, ct)).EnsureSuccessStatusCode();
            ids[i] = id;
            codes[i] = code;
        });
        return new Scenario
        {
            Name = name, Campaigns = ids, Codes = codes, Dealers = dealers, Budget = budget, DealerCap = dealerCap, BranchQuota = branchQuota,
            Run = run, Demand = name == "caprace" ? 5 * budget / Discount : null,
        };
    }

    private static async Task<string> CreateKeyAsync(HttpClient http, string role)
    {
        var created = await http.PostAsJsonAsync("/api/v1/api-keys", new { name = $"load {role}", role });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    /// <summary>One step of one virtual user.</summary>
    public async Task StepAsync(Call call, Random random, long sequence)
    {
        var draw = Next(random, sequence);
        var key = $"load-{Name}-{sequence}";
        switch (Name)
        {
            case "mixed" when random.Next(5) != 0:
                (await call.SendAsync(HttpMethod.Post, "/api/v1/validations", draw.Body, null)).Body?.Dispose();
                break;
            case "storm" when random.Next(5) == 0:
                var copies = 1 + random.Next(5);
                if (random.Next(2) == 0)
                {
                    await Task.WhenAll(Enumerable.Range(0, copies + 1).Select(_ => RedeemAsync(call, draw, key)));
                }
                else
                {
                    for (var i = 0; i <= copies; i++)
                    {
                        await RedeemAsync(call, draw, key);
                    }
                }

                break;
            case "churn":
                if (await RedeemAsync(call, draw, key) is { } id)
                {
                    var reason = Encoding.UTF8.GetBytes("""{"reason":"load churn"}""");
                    var (status, body) = await call.SendAsync(HttpMethod.Post, $"/api/v1/redemptions/{id}/reversal", reason, null);
                    body?.Dispose();
                    if (status == HttpStatusCode.OK && call.Record)
                    {
                        call.Stats.Reversed.Add(id);
                    }
                }

                break;
            default:
                await RedeemAsync(call, draw, key);
                break;
        }
    }

    private static async Task<string?> RedeemAsync(Call call, Draw draw, string key)
    {
        var campaign = draw.Campaign;
        var (status, body) = await call.SendAsync(HttpMethod.Post, "/api/v1/redemptions", draw.Body, key);
        using (body)
        {
            if (status == HttpStatusCode.Conflict && call.Record && body?.RootElement.TryGetProperty("code", out var code) == true)
            {
                call.Stats.Refusals.Add(new CapRefusal(campaign, draw.DealerId, draw.BranchId, code.GetString()!, DateTime.UtcNow));
            }

            if (status != HttpStatusCode.Created || body is null)
            {
                return null;
            }

            var id = body.RootElement.GetProperty("id").GetString()!;
            if (call.Record)
            {
                call.Stats.Acked.Add(new Acknowledged(id, campaign, body.RootElement.GetProperty("discount").GetInt64(), key));
            }

            return id;
        }
    }

    public int PickCampaign(Random random) =>
        Campaigns.Length == 1 ? 0 : (_zipf ??= new Zipf(Campaigns.Length, 1.0)).Sample(random);

    /// <summary>
    /// The next order as UTF-8 JSON: campaign chosen Zipf-skewed for spread, dealer, branch and customer
    /// uniformly. Written by hand so that the generator spends its CPU on sending, not on reflection.
    /// </summary>
    public Draw Next(Random random, long sequence)
    {
        var campaign = PickCampaign(random);
        var dealer = $"{DealerPrefix}{random.Next(Dealers)}";
        var branch = $"{dealer}-{(random.Next(2) == 0 ? "B" : "C")}";
        var customer = random.Next(100_000);
        var body = FormattableString.Invariant(
            $$"""{"code":"{{Codes[campaign]}}","dealerId":"{{dealer}}","branchId":"{{branch}}","orderId":"SO-{{sequence}}","region":"west","customer":{"id":"C-{{Run}}-{{customer}}","tags":[]},"lines":[{"sku":"BP-220","category":"brakes","quantity":4,"unitPrice":185000,"unitCost":131000}]}""");
        return new Draw(campaign, dealer, branch, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>One drawn order: its campaign's index, dealer and branch, and the request body.</summary>
    public sealed record Draw(int Campaign, string DealerId, string BranchId, byte[] Body);
}

/// <summary>The same draw as <see cref="Scenario.Next"/>, as the contract the grains take.</summary>
public static class ScenarioContexts
{
    public static (int Campaign, OrderContext Order) NextContext(this Scenario scenario, Random random, long sequence)
    {
        var campaign = scenario.PickCampaign(random);
        var dealer = $"{Scenario.DealerPrefix}{random.Next(scenario.Dealers)}";
        return (campaign, new OrderContext
        {
            Code = scenario.Codes[campaign],
            DealerId = dealer,
            BranchId = $"{dealer}-{(random.Next(2) == 0 ? "B" : "C")}",
            OrderId = $"SO-{sequence}",
            Region = "west",
            Customer = new OrderCustomer { Id = $"C-{scenario.Run}-{random.Next(100_000)}" },
            Lines = [new OrderLine { Sku = "BP-220", Category = "brakes", Quantity = 4, UnitPrice = 185_000, UnitCost = 131_000 }],
        });
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
