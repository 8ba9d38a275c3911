using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Fraud;

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
}
