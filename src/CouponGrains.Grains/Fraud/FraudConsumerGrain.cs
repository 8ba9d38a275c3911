using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;

namespace CouponGrains.Grains.Fraud;

public interface IFraudConsumerGrain : IEventConsumerGrain;

/// <summary>Fraud scoring of one partition's events.</summary>
[ImplicitStreamSubscription(PipelineNames.Namespace), GrainType("fraud-consumer")]
public sealed class FraudConsumerGrain(FraudStore store) : EventConsumerGrain, IFraudConsumerGrain
{
    protected override Task<int> ApplyAsync(RedemptionEvent[] events) =>
        store.ApplyAsync(events, int.Parse(this.GetPrimaryKeyString(), System.Globalization.CultureInfo.InvariantCulture));
}
