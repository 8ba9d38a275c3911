using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace CouponGrains.IntegrationTests.Cluster;

/// <summary>Three silos and an API host as separate processes: caps, durability and availability across failures.</summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const long Discount = 1000;

    [Fact]
    public async Task AThreeSiloClusterSpendsExactlyTheBudgetAndLosesNothingWhenOneSiloIsKilled()
    {
        await using var cluster = await LocalCluster.StartAsync(silos: 3, apiHosts: 1);
        const int slots = 240;
        var (campaign, code) = await cluster.SeedAsync("D-CLUSTER", budget: slots * Discount, Discount);
        var victim = cluster.Silos[2];
        using var api = LocalCluster.Client(cluster.ApiHosts[0].Url);
        using var silo0 = LocalCluster.Client(cluster.Silos[0].Url);
        using var silo1 = LocalCluster.Client(cluster.Silos[1].Url);
        using var silo2 = LocalCluster.Client(victim.Url);
        // Half the load through the API tier, half through the silos' own endpoints, the victim's included,
        // so requests are in flight on the process that dies.
        var retrying = new RetryingClient([() => api, () => silo0, () => api, () => silo1, () => api, () => silo2]);
        var acknowledged = new ConcurrentDictionary<string, string>();
        var unresolved = new ConcurrentBag<string>();
        var killed = 0;
        var round = 0;

        async Task RunRoundAsync()
        {
            var r = Interlocked.Increment(ref round);
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async w =>
            {
                for (var i = 0; ; i++)
                {
                    var key = $"cl-{r}-{w}-{i}";
                    var order = ApiFixture.Order(code, "D-CLUSTER", customerId: $"C-{w}", orderId: $"SO-{r}-{w}-{i}");
                    var (status, body, _) = await retrying.RedeemAsync(order, key);
                    if (status == HttpStatusCode.Created)
                    {
                        Assert.Equal(acknowledged.GetOrAdd(key, body!["id"]!.GetValue<string>()), body!["id"]!.GetValue<string>());
                        if (acknowledged.Count >= slots / 3 && Interlocked.Exchange(ref killed, 1) == 0)
                        {
                            victim.Kill();
                            output.WriteLine($"SIGKILLed silo {victim.Endpoints} after {acknowledged.Count} acknowledgements");
                        }
                    }
                    else if (status == HttpStatusCode.Conflict && body?["code"]?.GetValue<string>() == "campaign_budget_exhausted")
                    {
                        return;
                    }
                    else
                    {
                        unresolved.Add($"{key}: {(int?)status} {body?["code"]}");
                        return;
                    }
                }
            }));
        }

        // Holds taken by coordinators on the dead silo expire and are resolved against the ledger (30 s), so
        // the budget can look exhausted while some of it is only reserved: demand again until nothing is held.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        JsonObject view;
        while (true)
        {
            await RunRoundAsync();
            view = (await api.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!;
            var reserved = view["budget"]!["reserved"]!.GetValue<long>();
            var remaining = view["budget"]!["remaining"]!.GetValue<long>();
            if (reserved == 0 && remaining == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"budget not settled: reserved {reserved}, remaining {remaining}");
            await Task.Delay(500);
        }

        Assert.Equal(1, killed);
        Assert.Empty(unresolved);
        await cluster.WaitForActiveSilosAsync(2, TimeSpan.FromSeconds(60)); // the victim was declared dead
        var ledger = await CommittedAsync(cluster.ConnectionString, campaign);
        Assert.Equal(slots, ledger.Count); // exactly the budget: never more, and nothing left unspent
        Assert.Equal(slots * Discount, ledger.Values.Sum());
        Assert.Equal(slots, acknowledged.Count); // every slot was acknowledged to someone, once
        Assert.All(acknowledged.Values, id => Assert.True(ledger.ContainsKey(id), $"acknowledged {id} missing from the ledger"));
        Assert.Equal(acknowledged.Count, acknowledged.Values.Distinct().Count());
        Assert.Equal(slots * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(slots, view["redemptionCount"]!.GetValue<long>());
        var coupon = (await api.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}"))!;
        Assert.Equal(slots, coupon["uses"]!.GetValue<long>());

        // Nothing lost downstream either: whatever pipeline consumers (or the relay) lived on the victim died with their
        // buffers, and settlement and analytics still end with every redemption once.
        await Pipeline.Pipeline.WaitForEmptyOutboxAsync(cluster.ConnectionString, TimeSpan.FromSeconds(90));
        var totals = await Pipeline.Pipeline.TotalsAsync(cluster.ConnectionString, campaign);
        Assert.Equal(((long)slots, slots * Discount), totals[0]["D-CLUSTER"]);
        Assert.Equal(totals[0], totals[1]);
        Assert.Equal(totals[0], totals[2]);
    }

    [Fact]
    public async Task ARollingRestartOfEverySiloUnderLoadFailsNoRequestThatIsRetried()
    {
        await using var cluster = await LocalCluster.StartAsync(silos: 3, apiHosts: 1);
        var (campaign, code) = await cluster.SeedAsync("D-ROLL", budget: 1_000_000_000, Discount);
        using var api = LocalCluster.Client(cluster.ApiHosts[0].Url);
        var retrying = new RetryingClient([() => api]);
        var acknowledged = new ConcurrentDictionary<string, string>();
        var failed = new ConcurrentBag<string>();
        var retried = 0;
        var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 16).Select(async w =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"roll-{w}-{i}";
                var (status, body, attempts) = await retrying.RedeemAsync(
                    ApiFixture.Order(code, "D-ROLL", customerId: $"C-{w}", orderId: $"SO-{w}-{i}"), key);
                Interlocked.Add(ref retried, attempts - 1);
                if (status == HttpStatusCode.Created)
                {
                    acknowledged[key] = body!["id"]!.GetValue<string>();
                }
                else
                {
                    failed.Add($"{key}: {(int?)status} {body?["code"]}");
                }
            }
        }));

        for (var i = 0; i < cluster.Silos.Count; i++)
        {
            var before = acknowledged.Count;
            await cluster.RestartSiloAsync(i);
            output.WriteLine($"restarted silo {i}: {acknowledged.Count - before} acknowledged meanwhile, {retried} retries so far");
        }

        var settled = acknowledged.Count;
        while (acknowledged.Count < settled + 50 && failed.IsEmpty)
        {
            await Task.Delay(100); // the cluster serves again after the last restart
        }

        stop.Cancel();
        await load;
        if (!failed.IsEmpty)
        {
            // Each file keeps every process that ran on its ports, the replaced one's shutdown included.
            output.WriteLine($"logs: {Path.Combine(Path.GetTempPath(), $"CouponGrains.*-{cluster.ClusterId}-*.log")}");
        }

        Assert.Empty(failed);
        var ledger = await CommittedAsync(cluster.ConnectionString, campaign);
        Assert.All(acknowledged.Values, id => Assert.True(ledger.ContainsKey(id), $"acknowledged {id} missing from the ledger"));
        Assert.Equal(acknowledged.Count, ledger.Count); // no double effect from the retries
        // Confirms are one-way and batched: right after the load stops some committed rows may still be
        // reserved. Once settled (holds resolve against the ledger within 30 s), spent equals the ledger.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonObject view;
        while (true)
        {
            view = (await api.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!;
            if (view["budget"]!["reserved"]!.GetValue<long>() == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(ledger.Values.Sum(), view["budget"]!["spent"]!.GetValue<long>());
        output.WriteLine($"{acknowledged.Count} redemptions, {retried} retries, 0 failed");
    }

    private static async Task<Dictionary<string, long>> CommittedAsync(string connectionString, string campaign)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT id, discount FROM redemptions WHERE campaign_id = @c AND status = 'committed'", connection);
        command.Parameters.AddWithValue("c", campaign);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetInt64(1);
        }

        return rows;
    }
}
