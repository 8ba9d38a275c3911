using CouponGrains.Contracts.Campaigns;

namespace CouponGrains.Domain.Rules;

/// <summary>
/// A campaign's eligibility rules prepared for fast, repeated evaluation: lists become ordinal hash
/// sets and the wall-clock validity window becomes a pair of UTC instants. Build it once per campaign
/// definition (<see cref="Compile"/>) and reuse it for every order; it is immutable and thread-safe.
/// </summary>
public sealed class CompiledRules
{
    private CompiledRules(EligibilityRules rules, TimeZoneInfo timeZone, DateTimeOffset validFromUtc, DateTimeOffset validUntilUtc)
    {
        Skus = ToSet(rules.Skus);
        Categories = ToSet(rules.Categories);
        ExcludedSkus = ToSet(rules.ExcludedSkus);
        ExcludedCategories = ToSet(rules.ExcludedCategories);
        Regions = ToSet(rules.Regions);
        ChannelTiers = ToSet(rules.ChannelTiers);
        CustomerTags = ToSet(rules.CustomerTags);
        DealerIds = ToSet(rules.DealerIds);
        TimeZone = timeZone;
        ValidFromUtc = validFromUtc;
        ValidUntilUtc = validUntilUtc;

        // ValidUntil is inclusive to the second (23:59:59 covers the whole of that second), so the
        // window ends one second later, exclusive. Saturate rather than overflow at the end of time.
        ValidUntilExclusiveUtc = validUntilUtc <= DateTimeOffset.MaxValue.AddSeconds(-1)
            ? validUntilUtc.AddSeconds(1)
            : DateTimeOffset.MaxValue;
    }

    public IReadOnlySet<string> Skus { get; }
    public IReadOnlySet<string> Categories { get; }
    public IReadOnlySet<string> ExcludedSkus { get; }
    public IReadOnlySet<string> ExcludedCategories { get; }
    public IReadOnlySet<string> Regions { get; }
    public IReadOnlySet<string> ChannelTiers { get; }
    public IReadOnlySet<string> CustomerTags { get; }
    public IReadOnlySet<string> DealerIds { get; }

    /// <summary>The campaign's time zone, resolved from its IANA id (e.g. "Asia/Kolkata").</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>The first instant at which the campaign's wall clock reads ValidFrom (see <see cref="Compile"/>).</summary>
    public DateTimeOffset ValidFromUtc { get; }

    /// <summary>The last instant at which the campaign's wall clock reads ValidUntil (see <see cref="Compile"/>).</summary>
    public DateTimeOffset ValidUntilUtc { get; }

    /// <summary>
    /// <see cref="ValidUntilUtc"/> plus one second: orders are accepted while <c>now &lt; ValidUntilExclusiveUtc</c>,
    /// so a campaign ending 23:59:59 accepts 23:59:59.999 and rejects 00:00:00.
    /// </summary>
    public DateTimeOffset ValidUntilExclusiveUtc { get; }

    /// <summary>
    /// Compiles a campaign. ValidFrom and ValidUntil are read as wall-clock times in the campaign's
    /// time zone, whatever their <see cref="DateTime.Kind"/>, and converted to UTC:
    /// <list type="bullet">
    /// <item>A time skipped by a DST gap (e.g. 02:30 when clocks jump 02:00 → 03:00) moves forward to
    /// the end of the gap, i.e. the transition instant: the first instant whose wall clock is at or
    /// after the given time.</item>
    /// <item>A time that occurs twice (clocks falling back) takes the earlier occurrence for ValidFrom
    /// and the later one for ValidUntil, so the window covers every instant the wall clock shows a
    /// time within it.</item>
    /// </list>
    /// </summary>
    /// <exception cref="TimeZoneNotFoundException">The time zone id is unknown (validation rejects it earlier).</exception>
    public static CompiledRules Compile(CampaignDefinition campaign)
    {
        ArgumentNullException.ThrowIfNull(campaign);

        var zone = TimeZoneInfo.FindSystemTimeZoneById(campaign.TimeZone);
        var from = ToUtc(campaign.ValidFrom, zone, laterOccurrence: false);
        var until = ToUtc(campaign.ValidUntil, zone, laterOccurrence: true);
        return new CompiledRules(campaign.Eligibility, zone, from, until);
    }

    private static HashSet<string> ToSet(string[]? values) => new(values ?? [], StringComparer.Ordinal);

    private static DateTimeOffset ToUtc(DateTime wallClock, TimeZoneInfo zone, bool laterOccurrence)
    {
        var local = DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified);

        if (zone.IsInvalidTime(local))
        {
            return StartOfIntervalAfterGap(local, zone);
        }

        if (zone.IsAmbiguousTime(local))
        {
            // UTC = local − offset, so the larger offset gives the earlier instant.
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            var chosen = offsets[0];
            foreach (var offset in offsets)
            {
                if (laterOccurrence ? offset < chosen : offset > chosen)
                {
                    chosen = offset;
                }
            }

            return new DateTimeOffset(local, chosen).ToUniversalTime();
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>
    /// The first UTC instant whose wall clock in <paramref name="zone"/> is at or after a time that
    /// falls in a DST gap, which is the transition instant itself.
    /// </summary>
    private static DateTimeOffset StartOfIntervalAfterGap(DateTime local, TimeZoneInfo zone)
    {
        // Offsets lie within [−12 h, +14 h], so the instant sought is within this window; no zone has
        // two transitions that close together, so the wall clock is monotone over it and a binary
        // search over ticks finds the first instant whose wall clock reaches the given time.
        var lo = Math.Max(DateTime.MinValue.Ticks, local.Ticks - TimeSpan.FromHours(15).Ticks);
        var hi = Math.Min(DateTime.MaxValue.Ticks, local.Ticks + TimeSpan.FromHours(13).Ticks);
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            var utc = new DateTime(mid, DateTimeKind.Utc);
            var wall = utc + zone.GetUtcOffset(utc);
            if (wall >= local)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return new DateTimeOffset(lo, TimeSpan.Zero);
    }
}
