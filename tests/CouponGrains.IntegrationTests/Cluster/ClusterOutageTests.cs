using System.Net;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Cluster;

/// <summary>
/// A silo and an API host (client/) as separate processes, and a database that refuses the silo: the API host, which
/// only sees the grains' answers across the network, still answers 503 with Retry-After, never 500 or 201.
/// </summary>
public sealed class ClusterOutageTests
{
    private const long Discount = 1000;

    [Fact]
    public async Task AnApiHostAnswers503WhileTheDatabaseRefusesTheSilo()
    {
        var role = new OutageRole();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, apiHosts: 1, await role.CreateDatabaseAsync());
        var (_, code) = await cluster.SeedAsync("D-CL-OUTAGE", budget: 1000 * Discount, Discount);
        using var api = LocalCluster.Client(cluster.ApiHosts[0].Url);
        var first = await api.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-CL-OUTAGE", customerId: "C-0")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // New customers: each needs its cap grain read from PostgreSQL, and every redemption needs the ledger.
        HttpResponseMessage[] during;
        await role.RefuseAsync(endSessions: true);
        try
        {
            during = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
                api.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-CL-OUTAGE", customerId: $"C-{i}")))));
        }
        finally
        {
            await role.AllowAsync();
        }

        await OutageRole.AssertAllRetryLaterAsync(during);

        // Back: a redemption retried per the client policy goes through.
        var retrying = new RetryingClient([() => api]);
        var (status, _, _) = await retrying.RedeemAsync(ApiFixture.Order(code, "D-CL-OUTAGE", customerId: "C-after"), Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, status);
    }
}
