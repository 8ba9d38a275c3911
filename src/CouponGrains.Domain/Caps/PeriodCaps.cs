using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;
using CouponGrains.Domain.Time;

namespace CouponGrains.Domain.Caps;

/// <summary>
/// One per-period cap an order must be held against now.
/// </summary>
/// <param name="CapName">The cap's name (its own, or "{scope}-{measure}-{period}").</param>
/// <param name="PeriodKey">The current period's key in the campaign's zone, e.g. "2026-03-29", "2026-W13", "2026-03".</param>
/// <param name="Limit">The most the period may hold: a count, or minor units.</param>
/// <param name="Measure"><c>count</c> or <c>amount</c>.</param>
/// <param name="Scope"><c>campaign</c>, <c>dealer</c> or <c>branch</c>.</param>
/// <param name="ScopeId">The dealer or branch id the counter is for; null for a campaign-wide cap.</param>
/// <param name="Period">The period's UTC interval (its end is when the counter can be dropped).</param>
public sealed record PeriodCapHold(
    string CapName, string PeriodKey, long Limit, string Measure, string Scope, string? ScopeId, CalendarPeriod Period);

/// <summary>Per-period caps resolved, from a campaign definition and an instant, to the counters that apply.</summary>
public static class PeriodCaps
{
    /// <summary>
    /// The (capName, periodKey, limit) holds of <paramref name="campaign"/> at <paramref name="now"/> in
    /// <paramref name="zone"/> (the campaign's, from <see cref="Rules.CompiledRules.TimeZone"/>). With an
    /// <paramref name="order"/> each dealer / branch cap names its scope id; a branch cap is left out
    /// for an order with no branch (there is no branch counter to hold).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown period (validation rejects it earlier).</exception>
    public static IReadOnlyList<PeriodCapHold> Resolve(
        CampaignDefinition campaign, TimeZoneInfo zone, DateTimeOffset now, OrderContext? order = null)
    {
        ArgumentNullException.ThrowIfNull(campaign);
        ArgumentNullException.ThrowIfNull(zone);

        if (campaign.PeriodCaps.Length == 0)
        {
            return [];
        }

        var holds = new List<PeriodCapHold>(campaign.PeriodCaps.Length);
        foreach (var cap in campaign.PeriodCaps)
        {
            string? scopeId = cap.Scope switch
            {
                PeriodCapTerms.DealerScope => order?.DealerId,
                PeriodCapTerms.BranchScope => order?.BranchId,
                _ => null,
            };
            if (order is not null && cap.Scope == PeriodCapTerms.BranchScope && scopeId is null)
            {
                continue;
            }

            var period = PeriodCalendar.Find(PeriodCalendar.Parse(cap.Period), zone, now);
            holds.Add(new PeriodCapHold(
                cap.Name ?? $"{cap.Scope}-{cap.Measure}-{cap.Period}", period.Key, cap.Limit, cap.Measure, cap.Scope, scopeId, period));
        }

        return holds;
    }
}
