using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Fraud;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>
/// Crafted events handed straight to a store, each call on a partition of its own beyond the relay's, so the running
/// pipeline's offsets are never touched and every event is new.
/// </summary>
public static class EventBatches
{
    private static int s_partition = 1_000_000 + Random.Shared.Next(1_000_000);

    public static Task<ConsumerTransaction.Applied> ApplyAsync(this FraudStore store, IEnumerable<RedemptionEvent> events)
    {
        var positioned = events.Select((e, i) => e with { Tx = 1, Seq = i + 1 }).ToArray();
        return store.ApplyAsync(Interlocked.Increment(ref s_partition),
            [new RedemptionEventBatch(positioned, EventPosition.Start, new EventPosition(1, positioned.Length))]);
    }

    /// <summary>Committed events as the pipeline meets them: their redemptions in the ledger first, then applied.</summary>
    public static async Task ApplyRedeemedAsync(this FraudStore store, string connectionString, RedemptionEvent[] events)
    {
        await InLedgerAsync(connectionString, events);
        await store.ApplyAsync(events);
    }

    /// <summary>
    /// Writes the events' redemptions to the ledger, as the engine had before the relay read them (the duplicate-order
    /// rule reads an order's redemptions there).
    /// </summary>
    public static Task InLedgerAsync(string connectionString, IEnumerable<RedemptionEvent> events, string status = "committed")
    {
        var rows = events.ToArray();
        return TestPostgres.ScalarAsync<int>(connectionString,
            """
            INSERT INTO redemptions (id, status, code, campaign_id, dealer_id, order_id, customer_id, discount, currency, redeemed_at)
            SELECT id, @status, code, campaign, dealer, order_id, customer, 100, 'INR', now()
            FROM unnest(@ids, @codes, @campaigns, @dealers, @orders, @customers) AS u(id, code, campaign, dealer, order_id, customer)
            RETURNING 1
            """,
            ("status", status), ("ids", rows.Select(e => e.RedemptionId).ToArray()), ("codes", rows.Select(e => e.Code).ToArray()),
            ("campaigns", rows.Select(e => e.CampaignId).ToArray()), ("dealers", rows.Select(e => e.DealerId).ToArray()),
            ("orders", rows.Select(e => e.OrderId).ToArray()), ("customers", rows.Select(e => e.CustomerId).ToArray()));
    }
}
