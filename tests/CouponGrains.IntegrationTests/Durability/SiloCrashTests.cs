using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Durability;

/// <summary>A 2xx is durable: SIGKILL the silo mid-load, restart it, and nothing acknowledged is missing.</summary>
public sealed class SiloCrashTests
{
    private const string AdminKey = "cg_crash_test_admin_key_0123456789abcdef";
    private const long Discount = 1000;

    [Fact]
    public async Task EveryAcknowledgedRedemptionSurvivesASigkillAndEveryCounterAgreesWithTheLedger()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("cg_crash");
        var clusterId = "crash-" + Guid.NewGuid().ToString("N")[..8];
        var first = await SiloProcess.StartAsync(connectionString, clusterId, AdminKey);
        string campaign, code;
        using (var admin = Client(first.Url))
        {
            (await admin.PutAsJsonAsync("/api/v1/dealers/D-CRASH", new { name = "Crash dealer", region = "west", channelTier = "dealer" }))
                .EnsureSuccessStatusCode();
            var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
            {
                name = "Crash", kind = "dealer_promo", currency = "INR", budget = 1_000_000_000L,
                validFrom = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ss"),
                validUntil = DateTime.UtcNow.AddDays(5).ToString("yyyy-MM-ddTHH:mm:ss"),
                timeZone = "UTC", discount = new { type = "fixed", amount = Discount },
                caps = new { perCustomerRedemptions = 1_000_000 },
            });
            campaign = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            (await admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null)).EnsureSuccessStatusCode();
            // Nobody approves a campaign they created: a finance key does.
            var financeKey = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "crash finance", role = "finance" });
            using var finance = Client(first.Url);
            finance.DefaultRequestHeaders.Remove("X-Api-Key");
            finance.DefaultRequestHeaders.Add("X-Api-Key", (await financeKey.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
            (await finance.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).EnsureSuccessStatusCode();
            code = "CRASH" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
            (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { code })).EnsureSuccessStatusCode();
        }

        var acknowledged = new ConcurrentDictionary<string, string>();
        var unanswered = new ConcurrentDictionary<string, object>();
        var killed = new TaskCompletionSource();
        var stopped = false;
        using var load = Client(first.Url);
        var workers = Enumerable.Range(0, 32).Select(async w =>
        {
            // Workers keep sending through the kill, so requests are in flight when the process dies.
            for (var i = 0; !Volatile.Read(ref stopped); i++)
            {
                var key = $"crash-{w}-{i}";
                var order = ApiFixture.Order(code, "D-CRASH", customerId: $"C-{w % 4}", orderId: $"SO-{w}-{i}");
                try
                {
                    var response = await load.SendAsync(ApiFixture.Redeem(order, key));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged[key] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                        if (acknowledged.Count >= 400)
                        {
                            killed.TrySetResult();
                        }
                    }
                    else
                    {
                        unanswered[key] = order;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    unanswered[key] = order;
                }
            }
        }).ToArray();

        await killed.Task.WaitAsync(TimeSpan.FromMinutes(2));
        first.Kill();
        Volatile.Write(ref stopped, true);
        await Task.WhenAll(workers);
        await first.DisposeAsync();
        Assert.True(acknowledged.Count >= 400);
        Assert.NotEmpty(unanswered); // requests were in flight when the silo died

        await using var second = await SiloProcess.StartAsync(connectionString, clusterId, AdminKey, first.Endpoints);
        using var after = Client(second.Url);
        foreach (var (key, id) in acknowledged)
        {
            var read = await after.GetAsync($"/api/v1/redemptions/{id}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(Discount, (await read.Content.ReadFromJsonAsync<JsonObject>())!["discount"]!.GetValue<long>());
        }

        // Replaying every unanswered key resolves it: either it had committed (replayed) or it commits now.
        var resolved = new HashSet<string>();
        foreach (var (key, order) in unanswered)
        {
            var replay = await after.SendAsync(ApiFixture.Redeem(order, key));
            Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
            resolved.Add((await replay.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
        }

        var expected = acknowledged.Count + unanswered.Count;
        var ledgerCount = await TestPostgres.ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign));
        var ledgerSum = await TestPostgres.ScalarAsync<long>(connectionString,
            "SELECT COALESCE(sum(discount), 0)::bigint FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign));
        Assert.Equal(expected, ledgerCount);
        Assert.Equal(expected * Discount, ledgerSum);
        Assert.Equal(unanswered.Count, resolved.Count);
        Assert.Empty(resolved.Intersect(acknowledged.Values));

        var view = (await after.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!;
        Assert.Equal(ledgerSum, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(ledgerCount, view["redemptionCount"]!.GetValue<long>());
        var coupon = (await after.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}"))!;
        Assert.Equal(ledgerCount, coupon["uses"]!.GetValue<long>());
    }

    private static HttpClient Client(Uri url)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }
}
