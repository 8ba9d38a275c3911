using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Cluster;

/// <summary>
/// Several silos and API hosts as separate processes on loopback, one cluster through ADO.NET
/// clustering on a fresh database. Waits on real signals only: /health/ready and membership rows.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string AdminKey = "cg_cluster_test_admin_key_0123456789abcd";
    private const int Active = 3; // Orleans SiloStatus.Active as stored in OrleansMembershipTable.Status

    private LocalCluster(string connectionString, string clusterId)
    {
        ConnectionString = connectionString;
        ClusterId = clusterId;
    }

    public string ConnectionString { get; }

    public string ClusterId { get; }

    public List<SiloProcess> Silos { get; } = [];

    public List<SiloProcess> ApiHosts { get; } = [];

    /// <summary>Starts the processes on a fresh database, or on <paramref name="connectionString"/>'s.</summary>
    public static async Task<LocalCluster> StartAsync(int silos, int apiHosts, string? connectionString = null)
    {
        var cluster = new LocalCluster(connectionString ?? await TestPostgres.CreateDatabaseAsync("cg_cluster"), "cl-" + Guid.NewGuid().ToString("N")[..8]);
        // The first silo migrates and creates the admin key alone; the others then join together.
        cluster.Silos.Add(await SiloProcess.StartAsync(cluster.ConnectionString, cluster.ClusterId, AdminKey));
        cluster.Silos.AddRange(await Task.WhenAll(Enumerable.Range(1, silos - 1)
            .Select(_ => SiloProcess.StartAsync(cluster.ConnectionString, cluster.ClusterId, AdminKey))));
        await cluster.WaitForActiveSilosAsync(silos, TimeSpan.FromSeconds(90));
        cluster.ApiHosts.AddRange(await Task.WhenAll(Enumerable.Range(0, apiHosts)
            .Select(_ => SiloProcess.StartApiHostAsync(cluster.ConnectionString, cluster.ClusterId))));
        return cluster;
    }

    public Task<long> ActiveSilosAsync() => TestPostgres.ScalarAsync<long>(ConnectionString,
        "SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @c AND status = @s", ("c", ClusterId), ("s", Active));

    /// <summary>Until exactly <paramref name="count"/> silos are Active in the membership table.</summary>
    public async Task WaitForActiveSilosAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long seen;
        while ((seen = await ActiveSilosAsync()) != count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{seen} active silos after {timeout.TotalSeconds} s, expected {count}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM one silo, wait for it to leave, start it again on the same ports, wait until all are active.</summary>
    public async Task RestartSiloAsync(int index)
    {
        var old = Silos[index];
        await old.StopAsync(TimeSpan.FromSeconds(60));
        await old.DisposeAsync();
        Silos[index] = await SiloProcess.StartAsync(ConnectionString, ClusterId, AdminKey, old.Endpoints);
        await WaitForActiveSilosAsync(Silos.Count, TimeSpan.FromSeconds(90));
    }

    public static HttpClient Client(Uri url, string key = AdminKey)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>A dealer, an active campaign with a fixed discount and one public code; returns (campaign, code).</summary>
    public async Task<(string Campaign, string Code)> SeedAsync(string dealerId, long budget, long discount)
    {
        using var admin = Client(Silos[0].Url);
        (await admin.PutAsJsonAsync($"/api/v1/dealers/{dealerId}", new { name = "Cluster dealer", region = "west", channelTier = "dealer" }))
            .EnsureSuccessStatusCode();
        var definition = ApiFixture.Definition("Cluster", budget, new { type = "fixed", amount = discount },
            caps: new { perCustomerRedemptions = 1_000_000 });
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", definition);
        created.EnsureSuccessStatusCode();
        var campaign = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        (await admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null)).EnsureSuccessStatusCode();
        var key = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "cluster finance", role = "finance" });
        using var finance = Client(Silos[0].Url, (await key.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
        (await finance.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).EnsureSuccessStatusCode();
        var code = "CL" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { code })).EnsureSuccessStatusCode();
        return (campaign, code);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in ApiHosts.Concat(Silos))
        {
            await process.DisposeAsync();
        }
    }
}

/// <summary>
/// The client retry policy the README documents: on a connection error, a timeout or a 502/503/504,
/// send the same request with the same Idempotency-Key again, to the next host, after a short pause.
/// Any other answer is final.
/// </summary>
public sealed class RetryingClient(IReadOnlyList<Func<HttpClient>> hosts, int maxAttempts = 80)
{
    private int _next;

    public async Task<(HttpStatusCode? Status, JsonObject? Body, int Attempts)> RedeemAsync(object order, string key)
    {
        var start = Interlocked.Increment(ref _next);
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var client = hosts[(start + attempt) % hosts.Count]();
            try
            {
                using var response = await client.SendAsync(ApiFixture.Redeem(order, key));
                if (response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
                {
                    var text = await response.Content.ReadAsStringAsync();
                    return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null, attempt);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
            }

            await Task.Delay(150 + Random.Shared.Next(100));
        }

        return (null, null, maxAttempts);
    }
}
