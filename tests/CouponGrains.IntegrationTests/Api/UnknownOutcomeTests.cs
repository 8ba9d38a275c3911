using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Api.Endpoints;
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
    private string? _beforeResolve;

    public void BreakBeforeSending(string orderId) => _beforeSend = orderId;

    public void BreakAfterAnswer(string orderId) => _afterAnswer = orderId;

    /// <summary>The first resolution of the batch carrying the order fails; the ledger's retries in the background do not.</summary>
    public void FailFirstResolution(string orderId) => _beforeResolve = orderId;

    void ILedgerFaults.BeforeSend(IReadOnlyList<RedemptionRecord> batch) => BreakOn(ref _beforeSend, batch);

    void ILedgerFaults.AfterAnswer(IReadOnlyList<RedemptionRecord> batch) => BreakOn(ref _afterAnswer, batch);

    void ILedgerFaults.BeforeResolve(IReadOnlyList<RedemptionRecord> batch) => BreakOn(ref _beforeResolve, batch);

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

    /// <summary>
    /// No seam: the batch's own backend is terminated by PostgreSQL (FATAL 57P01, the socket closed under the
    /// driver) while the batch waits for a lock, before anything of it committed. The outcome is unknown to
    /// the silo, and the resolution finds it did not commit.
    /// </summary>
    [Fact]
    public async Task ABatchWhoseBackendIsTerminatedIsResolvedAbortedAndFreesItsHolds()
    {
        await api.PutDealerAsync("D-UNKNOWN-3");
        var campaign = await api.CreateActiveCampaignAsync(budget: 2 * Discount, caps: new { perDealerAmount = 2 * Discount });
        var code = await api.NamedCodeAsync(campaign);
        // The first redemption activates the campaign's hold-granting grains, which write their fences.
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-UNKNOWN-3", orderId: "SO-BEFORE-TERMINATION")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var abortedBefore = (await LedgerAsync(campaign)).Aborted;

        // Every append takes a shared advisory lock on its fences; an exclusive one here holds the next batch.
        await using var holder = await FenceHolder.HoldAsync(api.ConnectionString, campaign);
        var key = Guid.NewGuid().ToString("N");
        var order = ApiFixture.Order(code, "D-UNKNOWN-3", orderId: "SO-TERMINATED");
        var sending = api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        var backends = await holder.WaitForBatchesAsync(1, sending);
        await holder.TerminateAsync(backends[0]);

        var terminated = await sending;
        Assert.True(terminated.StatusCode == HttpStatusCode.ServiceUnavailable,
            $"expected 503 for a batch that never committed, got {(int)terminated.StatusCode} {await ApiFixture.CodeOf(terminated)}");
        Assert.NotNull(terminated.Headers.RetryAfter);
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        var ledger = await LedgerAsync(campaign);
        Assert.Equal(1L, ledger.Committed);
        Assert.True(ledger.Aborted > abortedBefore, "the terminated attempt's id was not tombstoned");

        await holder.ReleaseAsync();

        // Its hold went back at once: the retry takes the rest of the budget, and nothing is left beyond it.
        Assert.Equal(HttpStatusCode.Created, (await api.Admin.SendAsync(ApiFixture.Redeem(order, key))).StatusCode);
        var over = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-UNKNOWN-3", orderId: "SO-OVER-BUDGET")));
        Assert.Equal((HttpStatusCode.Conflict, "campaign_budget_exhausted"), (over.StatusCode, await ApiFixture.CodeOf(over)));
        view = await api.CampaignAsync(campaign);
        Assert.Equal(2 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(2L, (await LedgerAsync(campaign)).Committed);
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

    /// <summary>
    /// A campaign of three discounts with a dealer cap, a code of <paramref name="maxUses"/>, and an order whose batch breaks
    /// after it committed (or before it was sent) and whose first resolution fails, as if PostgreSQL were away.
    /// </summary>
    private async Task<(string Campaign, string Code, object Order)> UnresolvableAsync(string dealer, string orderId, int maxUses, bool committed)
    {
        await api.PutDealerAsync(dealer);
        var campaign = await api.CreateActiveCampaignAsync(budget: 3 * Discount, caps: new { perDealerAmount = 3 * Discount });
        var code = await api.NamedCodeAsync(campaign, maxUses: maxUses);
        if (committed)
        {
            api.Faults.BreakAfterAnswer(orderId);
        }
        else
        {
            api.Faults.BreakBeforeSending(orderId);
        }

        api.Faults.FailFirstResolution(orderId);
        return (campaign, code, ApiFixture.Order(code, dealer, orderId: orderId));
    }

    /// <summary>
    /// The worst order of events for exactly-once: the batch committed, its connection broke before the answer, and
    /// the database could not be asked at once either. The client is told 503; the ledger resolves the batch in the
    /// background, finds the commit and confirms its holds; the client's retry with the same key gets that one
    /// redemption, and the budget counts it once.
    /// </summary>
    [Fact]
    public async Task ABatchThatCommittedAndCouldNotBeResolvedAtOnceIsConfirmedLaterAndItsRetryReplaysIt()
    {
        var (campaign, _, order) = await UnresolvableAsync("D-UNKNOWN-4", "SO-COMMITTED-UNRESOLVED", maxUses: 3, committed: true);
        var key = Guid.NewGuid().ToString("N");
        var ledgerStats = api.Services.GetRequiredService<RedemptionLedger>();
        var unknownBefore = ledgerStats.Stats.UnknownBatches;

        var unknown = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));

        Assert.True(unknown.StatusCode == HttpStatusCode.ServiceUnavailable,
            $"expected 503 while the outcome could not be resolved, got {(int)unknown.StatusCode} {await ApiFixture.CodeOf(unknown)}");
        Assert.Equal(1L, (await LedgerAsync(campaign)).Committed);

        // The background resolution confirms the hold: reserved becomes spent, with no request in between.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JsonObject view;
        while ((view = await api.CampaignAsync(campaign))["budget"]!["spent"]!.GetValue<long>() != Discount)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the committed redemption was not confirmed within 10 s: {view["budget"]}");
            await Task.Delay(50);
        }

        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        // What ops see of it: one more unknown outcome, and (once the resolution is done) nothing awaiting one.
        Assert.Equal(unknownBefore + 1, ledgerStats.Stats.UnknownBatches);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ledgerStats.Stats.AwaitingResolution != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{ledgerStats.Stats.AwaitingResolution} redemptions still await resolution");
            await Task.Delay(20);
        }

        var retried = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.True(retried.Headers.Contains(RedemptionEndpoints.ReplayedHeader), "the retry was not answered as a replay");
        var id = (await retried.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(id, await TestPostgres.ScalarAsync<string>(api.ConnectionString,
            "SELECT id FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign)));

        view = await api.CampaignAsync(campaign);
        Assert.Equal(Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(1L, (await LedgerAsync(campaign)).Committed);
    }

    /// <summary>
    /// A batch that never committed, whose first resolution failed: the background resolution tombstones it and gives
    /// back every hold it took, the coupon's one use included, so the next attempt can have that use at once.
    /// </summary>
    [Fact]
    public async Task ABatchThatNeverCommittedAndCouldNotBeResolvedAtOnceGivesBackItsCouponUseLater()
    {
        var (campaign, code, order) = await UnresolvableAsync("D-UNKNOWN-5", "SO-NEVER-COMMITTED-UNRESOLVED", maxUses: 1, committed: false);

        var unknown = await api.Admin.SendAsync(ApiFixture.Redeem(order));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.StatusCode);
        Assert.Equal(0L, (await LedgerAsync(campaign)).Committed);

        // Released in the background: the campaign reserves nothing ...
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JsonObject view;
        while ((view = await api.CampaignAsync(campaign))["budget"]!["reserved"]!.GetValue<long>() != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the tombstoned redemption's hold was not released within 10 s: {view["budget"]}");
            await Task.Delay(50);
        }

        // ... and the coupon's only use is free again for another order, well before the hold's 30 s expiry. Its
        // release is sent with the campaign's, not after it, so the attempt is repeated until it lands; a refused
        // attempt holds nothing.
        HttpResponseMessage next;
        var attempts = 0;
        while ((next = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-UNKNOWN-5", orderId: $"SO-AFTER-RELEASE-{++attempts}"))))
               .StatusCode != HttpStatusCode.Created)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the coupon's use was not free again within 10 s: {(int)next.StatusCode} {await ApiFixture.CodeOf(next)}");
            await Task.Delay(50);
        }

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
