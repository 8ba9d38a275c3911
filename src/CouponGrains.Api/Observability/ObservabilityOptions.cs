namespace CouponGrains.Api.Observability;

/// <summary>Settings under <c>Observability</c>.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>How often the database is pinged, the outbox backlog read and hot budgets sampled.</summary>
    public int SampleSeconds { get; set; } = 10;

    /// <summary>How many of the most active campaigns get a budget-remaining series.</summary>
    public int HotCampaigns { get; set; } = 5;

    /// <summary>Read the outbox backlog (one <c>count(*)</c> per sample). Off on API hosts that have no use for it.</summary>
    public bool SampleOutbox { get; set; } = true;

    /// <summary>
    /// <c>/metrics</c> answers only callers on loopback or private networks unless this is true. It
    /// names campaigns and budgets: keep it on the internal network and off any public ingress.
    /// </summary>
    public bool MetricsPublic { get; set; }

    /// <summary>
    /// How often <see cref="ThreadPoolProbe"/> times a work item through the thread pool's global queue; 0 turns it off.
    /// Fifty probes a second cost next to nothing and give a p99 over a minute from 3,000 waits.
    /// </summary>
    public int ThreadPoolProbeMilliseconds { get; set; } = 20;

    /// <summary>How long a readiness probe waits for PostgreSQL before calling it unreachable.</summary>
    public int ReadyTimeoutSeconds { get; set; } = 3;
}
