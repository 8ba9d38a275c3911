using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Settlement;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class ExactlyOnceTests(PipelineFixture fixture)
{
    [Fact]
    public async Task EveryEventDeliveredTwiceChangesNoTotal()
    {
        var dealer = "D-EO-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var (campaign, code) = await fixture.CampaignWithCodeAsync(discount: 700);
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add(await fixture.RedeemAsync(fixture.Admin, code, dealer));
        }

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        for (var i = 0; i < 6; i++)
        {
            await fixture.InvoiceAsync(fixture.Admin, ids[i], $"INV-{dealer}-{i}", today);
        }

        await fixture.ReverseAsync(fixture.Admin, ids[11]);
        await fixture.WaitForEmptyOutboxAsync();
        var before = await Pipeline.TotalsAsync(fixture.ConnectionString, campaign);
        Assert.Equal(before[0], before[1]);
        Assert.Equal(before[0], before[2]);
        Assert.Equal((1L, 700L), before[3][dealer]);
        Assert.Equal((1L, 700L), before[4][dealer]);

        // Mapping an invoice again (a retried request) writes no second event.
        await fixture.InvoiceAsync(fixture.Admin, ids[0], $"INV-{dealer}-0", today);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM outbox o JOIN redemptions r ON r.id = o.redemption_id WHERE r.campaign_id = @c", ("c", campaign)));

        // Redelivery: every event of these redemptions handed to every consumer again, at positions they have passed.
        var events = ids.Select(id => new RedemptionEvent
        {
            EventId = $"{id}:committed", RedemptionId = id, Type = RedemptionEventType.Committed, CampaignId = campaign,
            DealerId = dealer, Code = code, Currency = "INR", Discount = 700, Amount = 700, RedeemedAt = DateTimeOffset.UtcNow,
        }).ToList();
        events.AddRange(ids.Take(6).Select((id, i) => events[0] with
        {
            EventId = $"{id}:invoiced", RedemptionId = id, Type = RedemptionEventType.Invoiced, InvoiceNumber = $"INV-{dealer}-{i}-AGAIN",
        }));
        events.Add(events[11] with { EventId = $"{ids[11]}:reversed:1", Type = RedemptionEventType.Reversed });
        Assert.Equal(0, await fixture.RedeliverAsync(events));
        Assert.Equal(0, await fixture.RedeliverAsync(events));
        Assert.Equal(before, await Pipeline.TotalsAsync(fixture.ConnectionString, campaign));

        // A batch that starts after where the consumers stand (one before it was lost) is not applied, and moves no offset.
        var partitions = await TestPostgres.ScalarAsync<int>(fixture.ConnectionString, "SELECT partitions FROM pipeline_layout");
        var partition = PipelineNames.Partition(dealer, partitions);
        var offset = await fixture.SlowestOffsetAsync(partition);
        var ahead = new EventPosition(offset.Tx + 1_000_000, 0);
        var skipped = events.Take(12).Select((e, i) => e with { Tx = ahead.Tx, Seq = i + 1 }).ToArray();
        Assert.Equal(0, await fixture.ApplyEverywhereAsync(partition, new RedemptionEventBatch(skipped, ahead, skipped[^1].Position)));
        Assert.True(await fixture.SlowestOffsetAsync(partition) < ahead);
        Assert.Equal(before, await Pipeline.TotalsAsync(fixture.ConnectionString, campaign));

        // Analytics knows the dealer's region and tier from the dealer grain.
        var region = await TestPostgres.ScalarAsync<string>(fixture.ConnectionString,
            "SELECT region || '/' || channel_tier FROM analytics_daily WHERE campaign_id = @c LIMIT 1", ("c", campaign));
        Assert.Equal("west/dealer", region);
    }

    [Fact]
    public async Task OnlyEventsAfterTheOffsetAreAppliedAndAGapWaitsForWhatItMissed()
    {
        var store = fixture.Services.GetRequiredService<SettlementStore>();
        var partition = 1_000_000 + Random.Shared.Next(1_000_000); // beyond the relay's partitions: its own offsets
        var id = "R-X-" + Guid.NewGuid().ToString("N")[..10];
        var committed = new RedemptionEvent
        {
            EventId = $"{id}:committed", RedemptionId = id, Type = RedemptionEventType.Committed, CampaignId = "C-X", DealerId = "D-X",
            Code = "X", Currency = "INR", Discount = 500, Amount = 500, RedeemedAt = DateTimeOffset.UtcNow, Tx = 7, Seq = 1,
        };
        var reversed = committed with { EventId = $"{id}:reversed:1", Type = RedemptionEventType.Reversed, Amount = 200, Seq = 2 };
        var again = reversed with { EventId = $"{id}:reversed:2", Amount = 100, Seq = 3 };
        var last = reversed with { EventId = $"{id}:reversed:3", Amount = 50, Tx = 9, Seq = 1 };
        EventPosition P(long tx, long seq) => new(tx, seq);
        RedemptionEventBatch Batch(EventPosition from, EventPosition through, params RedemptionEvent[] events) => new(events, from, through);

        Assert.Equal(1, (await store.ApplyAsync(partition, [Batch(EventPosition.Start, P(7, 1), committed)])).Fresh);
        Assert.Equal(1, (await store.ApplyAsync(partition, [Batch(EventPosition.Start, P(7, 2), committed, reversed)])).Fresh);
        Assert.Equal(0, (await store.ApplyAsync(partition, [Batch(EventPosition.Start, P(7, 2), committed, reversed)])).Fresh);

        // After a gap: nothing applied, the offset stays, and the batch is reported as not taken.
        var gap = await store.ApplyAsync(partition, [Batch(P(8, 0), P(9, 1), last)]);
        Assert.Equal((0, P(7, 2), 0), (gap.Fresh, gap.Offset, gap.Batches));

        // What was missed, then the batch after it, in one transaction: both applied, once.
        var caught = await store.ApplyAsync(partition, [Batch(P(7, 2), P(8, 0), again), Batch(P(8, 0), P(9, 1), last)]);
        Assert.Equal((2, P(9, 1), 2), (caught.Fresh, caught.Offset, caught.Batches));
        Assert.Equal(0, (await store.ApplyAsync(partition, [Batch(EventPosition.Start, P(9, 1), committed, reversed, again, last)])).Fresh);
        Assert.Equal(350L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT reversed_amount FROM settlement_items WHERE redemption_id = @id", ("id", id)));
    }
}
