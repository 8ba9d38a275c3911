using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Time;

namespace CouponGrains.Domain.Rules;

/// <summary>
/// A campaign's eligibility rules prepared for fast, repeated evaluation: lists become ordinal hash
/// sets and the wall-clock validity window becomes a pair of UTC instants. Build it once per campaign
/// definition (<see cref="Compile"/>) and reuse it for every order; it is immutable and thread-safe.
/// </summary>
public sealed class CompiledRules
{
    private CompiledRules(CampaignDefinition campaign, TimeZoneInfo timeZone, DateTimeOffset validFromUtc, DateTimeOffset validUntilUtc)
    {
        var rules = campaign.Eligibility;
        Skus = ToSet(rules.Skus);
        Categories = ToSet(rules.Categories);
        ExcludedSkus = ToSet(rules.ExcludedSkus);
        ExcludedCategories = ToSet(rules.ExcludedCategories);
        Regions = ToSet(rules.Regions);
        ChannelTiers = ToSet(rules.ChannelTiers);
        CustomerTags = ToSet(rules.CustomerTags);
        DealerIds = ToSet(rules.DealerIds);
        TimeZone = timeZone;
        Kind = campaign.Kind;
        Bundle = BundleRequirements.Compile(campaign.Bundle);
        Warranty = WarrantyTerms.Compile(campaign.Warranty);
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

    /// <summary>The campaign's kind (see <see cref="CampaignKinds"/>), which picks its discount rule.</summary>
    public string Kind { get; }

    /// <summary>What a <c>service_bundle</c> requires, as lookups; empty for other kinds.</summary>
    public BundleRequirements Bundle { get; }

    /// <summary>Who may use a <c>warranty</c> cover and its per-line cap.</summary>
    public WarrantyTerms Warranty { get; }

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
        var from = ZoneClock.ToUtc(campaign.ValidFrom, zone, laterOccurrence: false);
        var until = ZoneClock.ToUtc(campaign.ValidUntil, zone, laterOccurrence: true);
        return new CompiledRules(campaign, zone, from, until);
    }

    internal static HashSet<string> ToSet(string[]? values) => new(values ?? [], StringComparer.Ordinal);
}
