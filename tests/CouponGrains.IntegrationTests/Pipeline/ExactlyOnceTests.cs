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

        // Redelivery through the relay: every event of these redemptions back in the outbox.
        var inserted = await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            """
            WITH ins AS (
              INSERT INTO outbox (event_id, type, redemption_id, amount, at)
              SELECT id || ':committed', 'redemption_committed', id, discount, redeemed_at FROM redemptions WHERE campaign_id = @c
              UNION ALL
              SELECT id || ':invoiced', 'redemption_invoiced', id, discount, now() FROM redemptions WHERE campaign_id = @c AND invoice_number IS NOT NULL
              UNION ALL
              SELECT id || ':reversed:1', 'redemption_reversed', id, reversed_discount, now() FROM redemptions WHERE campaign_id = @c AND reversed_discount > 0
              RETURNING 1)
            SELECT count(*) FROM ins
            """, ("c", campaign));
        Assert.Equal(12 + 6 + 1, inserted);
        await fixture.WaitForEmptyOutboxAsync();
        Assert.Equal(before, await Pipeline.TotalsAsync(fixture.ConnectionString, campaign));

        // Redelivery straight to the consumers, twice with the same batch: nothing is new the second time.
        var batch = ids.Select((id, n) => new RedemptionEvent
        {
            EventId = $"{id}:committed", RedemptionId = id, Type = RedemptionEventType.Committed, CampaignId = campaign,
            DealerId = dealer, Code = code, Currency = "INR", Discount = 700, Amount = 700, RedeemedAt = DateTimeOffset.UtcNow,
        }).ToArray();
        var services = fixture.Services;
        Assert.Equal(0, await services.GetRequiredService<FraudStore>().ApplyAsync(batch));
        Assert.Equal(0, await services.GetRequiredService<SettlementStore>().ApplyAsync(batch));
        Assert.Equal(0, await services.GetRequiredService<AnalyticsStore>().ApplyAsync(batch, new Dictionary<string, DealerFacts>(),
            new Dictionary<string, CampaignFacts>()));
        Assert.Equal(before, await Pipeline.TotalsAsync(fixture.ConnectionString, campaign));

        // Analytics knows the dealer's region and tier from the dealer grain.
        var region = await TestPostgres.ScalarAsync<string>(fixture.ConnectionString,
            "SELECT region || '/' || channel_tier FROM analytics_daily WHERE campaign_id = @c LIMIT 1", ("c", campaign));
        Assert.Equal("west/dealer", region);
    }

    [Fact]
    public async Task ANewEventInABatchOfOldOnesIsAppliedOnce()
    {
        var store = fixture.Services.GetRequiredService<SettlementStore>();
        var id = "R-X-" + Guid.NewGuid().ToString("N")[..10];
        var committed = new RedemptionEvent
        {
            EventId = $"{id}:committed", RedemptionId = id, Type = RedemptionEventType.Committed, CampaignId = "C-X", DealerId = "D-X",
            Code = "X", Currency = "INR", Discount = 500, Amount = 500, RedeemedAt = DateTimeOffset.UtcNow,
        };
        var reversed = committed with { EventId = $"{id}:reversed:1", Type = RedemptionEventType.Reversed, Amount = 200 };
        Assert.Equal(1, await store.ApplyAsync([committed, committed]));
        Assert.Equal(1, await store.ApplyAsync([committed, reversed, reversed]));
        Assert.Equal(0, await store.ApplyAsync([reversed, committed]));
        Assert.Equal(200L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT reversed_amount FROM settlement_items WHERE redemption_id = @id", ("id", id)));
    }
}
