using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Settlement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace CouponGrains.Grains.Events;

public static class PipelineHostingExtensions
{
    /// <summary>The pipeline's services: relay, consumer stores, blacklist, settlement schedule; binds <c>Pipeline</c>.</summary>
    public static IServiceCollection AddCouponGrainsPipeline(this IServiceCollection services)
    {
        services.AddOptions<PipelineOptions>().BindConfiguration(PipelineOptions.Section);
        services.AddSingleton<ConsumerSlots>();
        services.AddSingleton<FraudStore>();
        services.AddSingleton<SettlementStore>();
        services.AddSingleton<AnalyticsStore>();
        services.AddSingleton<Blacklist>();
        services.AddHostedService(sp => sp.GetRequiredService<Blacklist>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService<SettlementScheduler>();
        return services;
    }

    /// <summary>
    /// The stream provider the relay publishes on. Memory streams are enough as transport because the
    /// outbox is the durable part; consumers subscribe implicitly, so pub-sub state is never needed beyond
    /// the memory store the provider insists on.
    /// </summary>
    public static ISiloBuilder AddCouponGrainsPipelineStreams(this ISiloBuilder silo)
    {
        silo.AddMemoryGrainStorage(PipelineNames.PubSubStore);
        silo.AddMemoryStreams(PipelineNames.StreamProvider, b =>
        {
            b.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
            // A batch is purged once it is StreamCacheSeconds older than the newest and has been cached a third of that.
            b.ConfigureCacheEviction(o => o.Configure<IOptions<PipelineOptions>>((eviction, pipeline) =>
            {
                var keep = TimeSpan.FromSeconds(Math.Max(1, pipeline.Value.StreamCacheSeconds));
                eviction.DataMaxAgeInCache = keep;
                eviction.DataMinTimeInCache = keep / 3;
                eviction.MetadataMinTimeInCache = keep * 2;
            }));
            // The defaults (one item per queue every 100 ms) deliver ten relay batches a second per queue, far
            // below what the relay publishes under load: read many items, often.
            b.ConfigurePullingAgent(o => o.Configure(p =>
            {
                p.BatchContainerBatchSize = 64;
                p.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20);
            }));
        });
        return silo;
    }
}
