using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;

namespace CouponGrains.Grains.Fraud;

public interface IFraudConsumerGrain : IEventConsumerGrain;

/// <summary>Fraud scoring of one partition's events.</summary>
[ImplicitStreamSubscription(PipelineNames.Namespace), GrainType("fraud-consumer")]
public sealed class FraudConsumerGrain(FraudStore store) : EventConsumerGrain, IFraudConsumerGrain
{
    protected override Task<ConsumerTransaction.Applied> ApplyAsync(IReadOnlyList<RedemptionEventBatch> batches) =>
        store.ApplyAsync(Partition, batches);
}
