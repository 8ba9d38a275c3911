using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;

namespace CouponGrains.Grains.Settlement;

public interface ISettlementConsumerGrain : IEventConsumerGrain;

/// <summary>Keeps settlement items of one partition's events.</summary>
[ImplicitStreamSubscription(PipelineNames.Namespace), GrainType("settlement-consumer")]
public sealed class SettlementConsumerGrain(SettlementStore store) : EventConsumerGrain, ISettlementConsumerGrain
{
    protected override Task<ConsumerTransaction.Applied> ApplyAsync(IReadOnlyList<RedemptionEventBatch> batches) =>
        store.ApplyAsync(Partition, batches);
}
