using CouponGrains.Contracts.Analytics;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Analytics;

/// <summary>Read side of the analytics tables for the API; a stateless worker (reads only).</summary>
[StatelessWorker, GrainType("analytics")]
public sealed class AnalyticsGrain(AnalyticsStore store) : Grain, IAnalyticsGrain
{
    public Task<AnalyticsRow[]> RedemptionsAsync(string groupBy, AnalyticsFilter filter) => store.RedemptionsAsync(groupBy, filter);

    public Task<BurnPoint[]> BudgetBurnAsync(string campaignId) => store.BudgetBurnAsync(campaignId);

    public Task<CampaignLift> LiftAsync(string campaignId) => store.LiftAsync(campaignId);

    public Task<AnalyticsKpis> KpisAsync(AnalyticsFilter filter) => store.KpisAsync(filter);
}
