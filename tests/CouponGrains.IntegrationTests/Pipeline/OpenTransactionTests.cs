using CouponGrains.Grains.Events;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>
/// The relay reads only outbox rows below the oldest transaction still open that has an id, so none can commit
/// behind its position. A transaction gets an id when it writes: a report left open does not hold the pipeline
/// back, a writer left open does, and only until it ends.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OpenTransactionTests(PipelineFixture fixture)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    private OutboxRelay Relay => fixture.Services.GetRequiredService<OutboxRelay>();

    [Fact]
    public async Task AReadOnlyTransactionLeftOpenDoesNotHoldThePipelineBack()
    {
        var (dealer, code) = await SetUpAsync();
        await using var report = new NpgsqlConnection(fixture.ConnectionString);
        await report.OpenAsync();
        await using var tx = await report.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM redemptions", report, tx))
        {
            await read.ExecuteScalarAsync();
        }

        var id = await fixture.RedeemAsync(fixture.Admin, code, dealer);

        await fixture.WaitForEmptyOutboxAsync(s_deadline);
        Assert.Equal(1L, await AppliedAsync(id));
        await tx.RollbackAsync();
    }

    [Fact]
    public async Task ATransactionThatWroteHoldsThePipelineBackUntilItEnds()
    {
        var (dealer, code) = await SetUpAsync();
        await using var writer = new NpgsqlConnection(fixture.ConnectionString);
        await writer.OpenAsync();
        await using var tx = await writer.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand("CREATE TEMP TABLE held_open (x int); INSERT INTO held_open VALUES (1)", writer, tx))
        {
            await write.ExecuteNonQueryAsync();
        }

        var id = await fixture.RedeemAsync(fixture.Admin, code, dealer);

        // Three reads of the outbox after the redemption committed, and its event is still there, unapplied.
        var reads = Relay.Stats.Reads;
        var deadline = DateTime.UtcNow + s_deadline;
        while (Relay.Stats.Reads < reads + 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the relay stopped reading the outbox");
            await Task.Delay(20);
        }

        Assert.Equal(1L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM outbox WHERE redemption_id = @id", ("id", id)));
        Assert.Equal(0L, await AppliedAsync(id));

        await tx.CommitAsync();
        await fixture.WaitForEmptyOutboxAsync(s_deadline);
        Assert.Equal(1L, await AppliedAsync(id));
    }

    private async Task<(string Dealer, string Code)> SetUpAsync()
    {
        var dealer = "D-OPEN-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var (_, code) = await fixture.CampaignWithCodeAsync();
        // Start from an empty outbox, so what follows concerns this test's redemption alone.
        await fixture.WaitForEmptyOutboxAsync(s_deadline);
        return (dealer, code);
    }

    /// <summary>Whether the pipeline has applied the redemption: settlement keeps a row for each one it was handed.</summary>
    private Task<long> AppliedAsync(string redemptionId) => TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
        "SELECT count(*) FROM settlement_items WHERE redemption_id = @id", ("id", redemptionId));
}
