using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;
using Npgsql;

namespace CouponGrains.IntegrationTests.Cluster;

/// <summary>
/// A silo and an API host (client/) as separate processes, and a database that refuses the silo: the API host, which
/// only sees the grains' answers across the network, still answers 503 with Retry-After, never 500 or 201; and once
/// the database is back nothing the failed attempts held stays reserved, so their retries are answered exactly.
/// </summary>
public sealed class ClusterOutageTests
{
    private const long Discount = 1000;

    [Fact]
    public async Task AnApiHostAnswers503WhileTheDatabaseRefusesTheSiloAndTheBudgetIsWholeSoonAfter()
    {
        var role = new OutageRole();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, apiHosts: 1, await role.CreateDatabaseAsync());
        var (campaign, code) = await cluster.SeedAsync("D-CL-OUTAGE", budget: 6 * Discount, Discount);
        using var api = LocalCluster.Client(cluster.ApiHosts[0].Url);
        var first = await api.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-CL-OUTAGE", customerId: "C-0")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // Redemptions of the first customer, whose grains are all in memory, reach the ledger. An exclusive lock on the
        // campaign's fence holds each one's batch, one per ledger writer, until the outage ends the sessions under them:
        // their outcome is then unknown, and the ledger cannot resolve it while the database refuses the silo.
        await using var holder = await FenceHolder.HoldAsync(new NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString)
        {
            Database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Database,
        }.ConnectionString, campaign);

        var held = Enumerable.Range(1, 3).Select(_ => (Key: Guid.NewGuid().ToString("N"), Order: ApiFixture.Order(code, "D-CL-OUTAGE", customerId: "C-0")))
            .ToArray();
        var sending = new List<Task<HttpResponseMessage>>();
        foreach (var (key, order) in held)
        {
            sending.Add(api.SendAsync(ApiFixture.Redeem(order, key)));
            await holder.WaitForBatchesAsync(sending.Count, sending[^1]);
        }

        // New customers: each needs its cap grain read from PostgreSQL, so they fail before the ledger.
        var fresh = Enumerable.Range(1, 4).Select(i => (Key: Guid.NewGuid().ToString("N"), Order: ApiFixture.Order(code, "D-CL-OUTAGE", customerId: $"C-{i}")))
            .ToArray();
        HttpResponseMessage[] during;
        await role.RefuseAsync(endSessions: true);
        try
        {
            during = await Task.WhenAll(sending.Concat(fresh.Select(o => api.SendAsync(ApiFixture.Redeem(o.Order, o.Key)))));
        }
        finally
        {
            await holder.ReleaseAsync();
            await role.AllowAsync();
        }

        await OutageRole.AssertAllRetryLaterAsync(during);

        // Back: what the failed attempts held goes back well before their holds would expire (30 s).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        long reserved;
        while ((reserved = await ReservedAsync(api, campaign)) != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{reserved} of the budget was still reserved 10 s after the database came back");
            await Task.Delay(100);
        }

        // The same requests again: five redemptions are left in the budget, so five succeed and two are refused.
        var after = await Task.WhenAll(held.Concat(fresh).Select(o => api.SendAsync(ApiFixture.Redeem(o.Order, o.Key))));
        Assert.True(after.Count(r => r.StatusCode == HttpStatusCode.Created) == 5,
            $"expected 5 of 7 to succeed; the answers were {await ApiFixture.TallyAsync(after)}");
        foreach (var refused in after.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            Assert.Equal((HttpStatusCode.Conflict, "campaign_budget_exhausted"), (refused.StatusCode, await ApiFixture.CodeOf(refused)));
        }

        var view = (await api.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!;
        Assert.Equal(6 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
    }

    private static async Task<long> ReservedAsync(HttpClient api, string campaign) =>
        (await api.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!["budget"]!["reserved"]!.GetValue<long>();
}
