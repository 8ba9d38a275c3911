using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Events;

namespace CouponGrains.Grains.Analytics;

public interface IAnalyticsConsumerGrain : IEventConsumerGrain;

/// <summary>
/// Analytics of one partition's events. Region and channel tier come from the dealer grain, the budget from
/// the campaign grain; both are cached for the activation's life (a dealer's region is taken as it was
/// when analytics first met it that day).
/// </summary>
[ImplicitStreamSubscription(PipelineNames.Namespace), GrainType("analytics-consumer")]
public sealed class AnalyticsConsumerGrain(AnalyticsStore store) : EventConsumerGrain, IAnalyticsConsumerGrain
{
    private readonly Dictionary<string, DealerFacts> _dealers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CampaignFacts> _campaigns = new(StringComparer.Ordinal);

    /// <summary>
    /// Campaigns whose facts this activation has written: the facts are cached for its life, so writing them
    /// again would only lock the campaign's row (shared by every partition) for nothing.
    /// </summary>
    private readonly HashSet<string> _campaignsWritten = new(StringComparer.Ordinal);

    protected override async Task<ConsumerTransaction.Applied> ApplyAsync(IReadOnlyList<RedemptionEventBatch> batches)
    {
        // Facts for every event handed over, whether or not it turns out to be new: a superset is harmless.
        var events = batches.SelectMany(b => b.Events).ToArray();
        foreach (var dealerId in events.Select(e => e.DealerId).Distinct(StringComparer.Ordinal).Where(d => !_dealers.ContainsKey(d)).ToArray())
        {
            var profile = await GrainFactory.Ref<IDealerGrain>(GrainKeys.Dealer(dealerId)).GetAsync();
            _dealers[dealerId] = new DealerFacts(profile?.Region, profile?.ChannelTier);
        }

        foreach (var campaignId in events.Select(e => e.CampaignId).Distinct(StringComparer.Ordinal).Where(c => !_campaigns.ContainsKey(c)).ToArray())
        {
            var view = await GrainFactory.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId)).GetAsync();
            _campaigns[campaignId] = new CampaignFacts(view?.Definition.Name, view?.Definition.Kind, view?.Definition.Currency, view?.Definition.Budget);
        }

        var unwritten = events.Select(e => e.CampaignId).Distinct(StringComparer.Ordinal).Where(c => !_campaignsWritten.Contains(c))
            .ToDictionary(c => c, c => _campaigns[c], StringComparer.Ordinal);
        var applied = await store.ApplyAsync(Partition, batches, _dealers, unwritten);
        _campaignsWritten.UnionWith(unwritten.Keys);
        return applied;
    }
}
