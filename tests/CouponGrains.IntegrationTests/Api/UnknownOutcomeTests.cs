using System.Net;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>Breaks the ledger's connection around the batch that carries a chosen order, once.</summary>
public sealed class BreakingConnections : ILedgerFaults
{
    private string? _beforeSend;
    private string? _afterAnswer;

    public void BreakBeforeSending(string orderId) => _beforeSend = orderId;

    public void BreakAfterAnswer(string orderId) => _afterAnswer = orderId;

    void ILedgerFaults.BeforeSend(IReadOnlyList<RedemptionRecord> batch) => BreakOn(ref _beforeSend, batch);

    void ILedgerFaults.AfterAnswer(IReadOnlyList<RedemptionRecord> batch) => BreakOn(ref _afterAnswer, batch);

    private static void BreakOn(ref string? orderId, IReadOnlyList<RedemptionRecord> batch)
    {
        var wanted = Volatile.Read(ref orderId);
        if (wanted is not null && batch.Any(r => r.OrderId == wanted) && Interlocked.CompareExchange(ref orderId, null, wanted) == wanted)
        {
            throw new NpgsqlException("Exception while reading from stream", new IOException("The connection was reset (test)."));
        }
    }
}

public sealed class UnknownOutcomeFixture : ApiFixture
{
    public BreakingConnections Faults { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<ILedgerFaults>(Faults);
}

[CollectionDefinition(Name)]
public sealed class UnknownOutcomeCollection : ICollectionFixture<UnknownOutcomeFixture>
{
    public const string Name = "unknown-outcome";
}

/// <summary>
/// A ledger batch whose connection breaks leaves its outcome unknown to the silo. It is resolved at once, as an
/// expired hold would be 30 s later: a redemption that committed is answered 201 and its caps count it as spent;
/// one that did not is tombstoned, answered 503, holds nothing, and its retry is a fresh attempt.
/// </summary>
[Collection(UnknownOutcomeCollection.Name)]
public sealed class UnknownOutcomeTests(UnknownOutcomeFixture api)
{
    private const long Discount = 1000;

    private async Task<(long Committed, long Aborted)> LedgerAsync(string campaignId)
    {
        var committed = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaignId));
        // A tombstone is only an id and a status, with no campaign: the tests count every tombstone, before and after.
        var aborted = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE status = 'aborted' AND campaign_id IS NULL");
        return (committed, aborted);
    }

    /// <summary>
    /// The resolution meets a batch still in flight with the same id (its connection broke, its transaction lives on):
    /// it waits for that transaction, and must then see its commit rather than call the redemption aborted.
    /// </summary>
    [Fact]
    public async Task ResolvingWaitsForABatchInFlightAndSeesItsCommit()
    {
        var ledger = api.Services.GetRequiredService<RedemptionLedger>();
        var id = "R-" + Guid.NewGuid().ToString("N");
        await using var inFlight = new NpgsqlConnection(api.ConnectionString);
        await inFlight.OpenAsync();
        await using var transaction = await inFlight.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO redemptions (id, status) VALUES (@id, 'committed')", inFlight, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            await insert.ExecuteNonQueryAsync();
        }

        var resolving = ledger.ResolveManyAsync([id]);
        // The resolution is blocked on the uncommitted row: PostgreSQL shows its session waiting for a lock.
        var waiting = TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + waiting;
        while (await TestPostgres.ScalarAsync<long>(api.ConnectionString,
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
        {
            Assert.False(resolving.IsCompleted, "the resolution did not wait for the batch in flight");
            Assert.True(DateTime.UtcNow < deadline, $"the resolution was not seen waiting within {waiting}");
            await Task.Delay(20);
        }

        await transaction.CommitAsync();
        Assert.Contains(id, await resolving);
    }

    [Fact]
    public async Task ABatchThatCommittedBeforeItsConnectionBrokeIsAnswered201AndCountedSpent()
    {
        await api.PutDealerAsync("D-UNKNOWN-1");
        var campaign = await api.CreateActiveCampaignAsync(budget: 3 * Discount, caps: new { perDealerAmount = 3 * Discount });
        var code = await api.NamedCodeAsync(campaign);
        var order = ApiFixture.Order(code, "D-UNKNOWN-1", orderId: "SO-COMMITTED-THEN-BROKEN");
        api.Faults.BreakAfterAnswer("SO-COMMITTED-THEN-BROKEN");

        var response = await api.Admin.SendAsync(ApiFixture.Redeem(order));

        Assert.True(response.StatusCode == HttpStatusCode.Created,
            $"expected 201 for a redemption that committed, got {(int)response.StatusCode} {await ApiFixture.CodeOf(response)}");
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(1L, (await LedgerAsync(campaign)).Committed);
    }

    [Fact]
    public async Task ABatchThatBrokeBeforeItWasSentIsTombstonedHoldsNothingAndItsRetrySucceeds()
    {
        await api.PutDealerAsync("D-UNKNOWN-2");
        var campaign = await api.CreateActiveCampaignAsync(budget: Discount, caps: new { perDealerAmount = Discount });
        var code = await api.NamedCodeAsync(campaign);
        var order = ApiFixture.Order(code, "D-UNKNOWN-2", orderId: "SO-BROKEN-BEFORE-SENDING");
        var key = Guid.NewGuid().ToString("N");
        var abortedBefore = (await LedgerAsync(campaign)).Aborted;
        api.Faults.BreakBeforeSending("SO-BROKEN-BEFORE-SENDING");

        var broken = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, broken.StatusCode);
        Assert.NotNull(broken.Headers.RetryAfter);
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(0, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        var ledger = await LedgerAsync(campaign);
        Assert.Equal(0L, ledger.Committed);
        Assert.True(ledger.Aborted > abortedBefore, "the attempt's id was not tombstoned");

        // The whole budget is free at once, not in 30 s: the retry with the same key takes it.
        var retried = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        view = await api.CampaignAsync(campaign);
        Assert.Equal(Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(1L, (await LedgerAsync(campaign)).Committed);
    }
}
