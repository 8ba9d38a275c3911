using System.Net;
using CouponGrains.Contracts;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>A silo of its own that connects as an <see cref="OutageRole"/>, so the tests can take its database away.</summary>
public sealed class DatabaseOutageFixture : ApiFixture
{
    private readonly OutageRole _role = new();

    protected override Task<string> CreateDatabaseAsync() => _role.CreateDatabaseAsync();

    /// <summary>Refuses the silo every new connection and empties its pools, so its next statements must connect afresh.</summary>
    public async Task TakeDatabaseAwayAsync()
    {
        await _role.RefuseAsync(endSessions: false);
        var database = Services.GetRequiredService<Database>();
        database.DataSource.Clear();
        database.GenericPlans.Clear();
        NpgsqlConnection.ClearAllPools();
    }

    public Task GiveDatabaseBackAsync() => _role.AllowAsync();
}

[CollectionDefinition(Name)]
public sealed class DatabaseOutageCollection : ICollectionFixture<DatabaseOutageFixture>
{
    public const string Name = "database-outage";
}

/// <summary>
/// While PostgreSQL cannot be reached a redemption is answered 503 with Retry-After, never 500 and never 201;
/// nothing it reserved stays reserved, and the same requests retried once the database is back are answered
/// exactly, within the budget.
/// </summary>
[Collection(DatabaseOutageCollection.Name)]
public sealed class DatabaseOutageTests(DatabaseOutageFixture api)
{
    private const long Discount = 1000;

    /// <summary>
    /// Why the silo turns database failures into <see cref="DatabaseUnavailableException"/> at the grain boundary: an
    /// API host that is an Orleans client could not be sent the driver's exception at all.
    /// </summary>
    [Fact]
    public void TheDatabaseFailureCrossesToAnApiHostWholeAndTheDriversDoesNot()
    {
        var serializer = api.Services.GetRequiredService<Serializer>();
        Exception RoundTrip(Exception e) => serializer.Deserialize<Exception>(serializer.SerializeToArray(e))!;

        Assert.IsType<DatabaseUnavailableException>(RoundTrip(new DatabaseUnavailableException("PostgresException: too many connections")));
        // The driver's own exception has no codec: it could not even be sent.
        Assert.Throws<CodecNotFoundException>(() => RoundTrip(new PostgresException("too many connections for role", "FATAL", "FATAL", "53300")));
    }

    /// <summary>
    /// With a per-customer limit each redemption holds the campaign's budget, then fails activating its new customer's
    /// cap grain, which must read PostgreSQL; without one every grain on the path is in memory and the redemption
    /// fails at the ledger's append.
    /// </summary>
    [Theory]
    [InlineData("D-OUTAGE-CAPS", true)]
    [InlineData("D-OUTAGE-LEDGER", false)]
    public async Task RedemptionsDuringAnOutageAre503AndTheirRetriesAfterItAreExact(string dealer, bool customerLimit)
    {
        await api.PutDealerAsync(dealer);
        var campaign = await api.CreateActiveCampaignAsync(budget: 6 * Discount,
            caps: customerLimit ? new { perCustomerRedemptions = 100 } : null);
        var code = await api.NamedCodeAsync(campaign);
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, dealer, customerId: "C-0")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        var orders = Enumerable.Range(1, 12)
            .Select(i => (Key: Guid.NewGuid().ToString("N"), Order: ApiFixture.Order(code, dealer, customerId: $"C-{i}")))
            .ToArray();
        HttpResponseMessage[] during;
        await api.TakeDatabaseAwayAsync();
        try
        {
            during = await Task.WhenAll(orders.Select(o => api.Admin.SendAsync(ApiFixture.Redeem(o.Order, o.Key))));
        }
        finally
        {
            await api.GiveDatabaseBackAsync();
        }

        await OutageRole.AssertAllRetryLaterAsync(during);

        // The same requests again: the budget has five redemptions left, so five succeed and seven are refused.
        var after = await Task.WhenAll(orders.Select(o => api.Admin.SendAsync(ApiFixture.Redeem(o.Order, o.Key))));
        Assert.True(after.Count(r => r.StatusCode == HttpStatusCode.Created) == 5,
            $"expected 5 of 12 to succeed; the answers were {await ApiFixture.TallyAsync(after)}");
        foreach (var refused in after.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("campaign_budget_exhausted", await ApiFixture.CodeOf(refused));
        }

        var view = await api.CampaignAsync(campaign);
        Assert.Equal(6 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(6L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign)));
    }
}
