using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>Nothing lost downstream: SIGKILL the silo while redemptions stream; after a restart, settlement and
/// analytics agree with the ledger exactly, per campaign and dealer.</summary>
[Collection(PipelineCollection.Name)]
public sealed class PipelineCrashTests
{
    private const string AdminKey = "cg_pipeline_crash_admin_key_0123456789ab";

    [Fact]
    public async Task SettlementAndAnalyticsEqualTheLedgerAfterASigkillMidStream()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("cg_pcrash");
        var clusterId = "pcrash-" + Guid.NewGuid().ToString("N")[..8];
        var first = await SiloProcess.StartAsync(connectionString, clusterId, AdminKey);
        var dealers = new[] { "D-PC-1", "D-PC-2", "D-PC-3" };
        string campaign, code;
        using (var admin = Client(first.Url, AdminKey))
        {
            foreach (var dealer in dealers)
            {
                (await admin.PutAsJsonAsync($"/api/v1/dealers/{dealer}", new { name = dealer, region = "south", channelTier = "dealer" }))
                    .EnsureSuccessStatusCode();
            }

            var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
            {
                name = "Pipeline crash", kind = "dealer_promo", currency = "INR", budget = 1_000_000_000L,
                validFrom = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ss"),
                validUntil = DateTime.UtcNow.AddDays(5).ToString("yyyy-MM-ddTHH:mm:ss"),
                timeZone = "UTC", discount = new { type = "fixed", amount = 900 },
                caps = new { perCustomerRedemptions = 1_000_000 },
            });
            campaign = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            (await admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null)).EnsureSuccessStatusCode();
            var financeKey = (await (await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "finance", role = "finance" }))
                .Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
            using var finance = Client(first.Url, financeKey);
            (await finance.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).EnsureSuccessStatusCode();
            code = "PCRASH" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
            (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { code })).EnsureSuccessStatusCode();
        }

        var acknowledged = 0;
        var enough = new TaskCompletionSource();
        var stopped = false;
        using var load = Client(first.Url, AdminKey);
        var workers = Enumerable.Range(0, 24).Select(async w =>
        {
            for (var i = 0; !Volatile.Read(ref stopped); i++)
            {
                try
                {
                    var order = ApiFixture.Order(code, dealers[w % dealers.Length], customerId: $"C-{w}", orderId: $"SO-{w}-{i}");
                    var response = await load.SendAsync(ApiFixture.Redeem(order, $"pc-{w}-{i}"));
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        continue;
                    }

                    var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                    if (i % 5 == 0)
                    {
                        await load.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice", new { invoiceNumber = $"INV-{w}-{i}", invoiceDate = "2026-11-20" });
                    }
                    else if (i % 7 == 0)
                    {
                        await load.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "returned" });
                    }

                    if (Interlocked.Increment(ref acknowledged) >= 600)
                    {
                        enough.TrySetResult();
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                }
            }
        }).ToArray();

        await enough.Task.WaitAsync(TimeSpan.FromMinutes(2));
        first.Kill();
        Volatile.Write(ref stopped, true);
        await Task.WhenAll(workers);
        await first.DisposeAsync();

        await using var second = await SiloProcess.StartAsync(connectionString, clusterId, AdminKey, first.Endpoints);
        await Pipeline.WaitForEmptyOutboxAsync(connectionString, TimeSpan.FromSeconds(90));
        var totals = await Pipeline.TotalsAsync(connectionString, campaign);
        Assert.Equal(dealers.Length, totals[0].Count);
        Assert.Equal(totals[0], totals[1]);   // analytics = ledger: count and discount per dealer
        Assert.Equal(totals[0], totals[2]);   // settlement = ledger
        Assert.Equal(totals[3], totals[4]);   // reversals agree between analytics and settlement
        var ledgerReversed = await TestPostgres.ScalarAsync<long>(connectionString,
            "SELECT COALESCE(sum(reversed_discount), 0)::bigint FROM redemptions WHERE campaign_id = @c", ("c", campaign));
        Assert.Equal(ledgerReversed, totals[3].Values.Sum(v => v.Amount));
        Assert.True(totals[0].Values.Sum(v => v.Count) >= 600);
    }

    private static HttpClient Client(Uri url, string key)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }
}
