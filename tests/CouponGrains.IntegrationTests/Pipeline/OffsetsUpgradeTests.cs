using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CouponGrains.IntegrationTests.Pipeline;

public sealed class OffsetsUpgradeTests
{
    /// <summary>
    /// A database as the version before offsets left it: events in the outbox that some consumers had recorded as applied
    /// (pipeline_processed) and others had not. After the upgrade those events come first (tx 0), and each consumer
    /// applies exactly the ones it had not recorded.
    /// </summary>
    [Fact]
    public async Task EventsInTheOutboxAtTheUpgradeAreAppliedByTheConsumersThatHadNotAppliedThem()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_offsets_up");
        await MigrationRunner.ApplyAsync(cs, upTo: 13);
        await TestPostgres.ScalarAsync<object>(cs,
            """
            INSERT INTO outbox (seq, event_id, type, redemption_id) VALUES
                (1, 'R-1:committed', 'redemption_committed', 'R-1'), (2, 'R-2:committed', 'redemption_committed', 'R-2');
            INSERT INTO pipeline_processed (event_id, consumer) VALUES ('R-1:committed', 'settlement'), ('R-2:committed', 'analytics');
            SELECT 1
            """);
        await MigrationRunner.ApplyAsync(cs);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(cs, "SELECT max(tx) FROM outbox"));

        await using var db = Database.CreateDataSource(cs);
        var slots = new ConsumerSlots(Options.Create(new PipelineOptions()));
        var events = new[] { Event("R-1", 1), Event("R-2", 2) };
        var batch = new RedemptionEventBatch(events, EventPosition.Start, new EventPosition(0, 2));

        async Task<string[]> FreshAsync(string consumer)
        {
            string[] fresh = [];
            await ConsumerTransaction.RunAsync(db, slots, consumer, 0, [batch], (_, _, applied) =>
            {
                fresh = applied.Select(e => e.RedemptionId).ToArray();
                return Task.CompletedTask;
            });
            return fresh;
        }

        Assert.Equal(["R-2"], await FreshAsync(PipelineNames.Settlement));
        Assert.Equal(["R-1"], await FreshAsync(PipelineNames.Analytics));
        Assert.Equal(["R-1", "R-2"], await FreshAsync(PipelineNames.Fraud));
        Assert.Empty(await FreshAsync(PipelineNames.Fraud)); // and then never again
    }

    private static RedemptionEvent Event(string id, long seq) => new()
    {
        EventId = $"{id}:committed", RedemptionId = id, Type = RedemptionEventType.Committed, CampaignId = "C-UP", DealerId = "D-UP",
        Code = "UP", Currency = "INR", Discount = 100, Amount = 100, RedeemedAt = DateTimeOffset.UtcNow, Tx = 0, Seq = seq,
    };
}
