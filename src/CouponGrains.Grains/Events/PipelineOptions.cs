namespace CouponGrains.Grains.Events;

/// <summary>Settings under <c>Pipeline</c>: the outbox relay, the fraud rules and the settlement schedule.</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Run the relay on this silo (one is active per cluster, by advisory lock).</summary>
    public bool RelayEnabled { get; set; } = true;

    /// <summary>Streams (by dealer) the events are spread over; each consumer has one activation per stream.</summary>
    public int Partitions { get; set; } = 4;

    /// <summary>Outbox rows read per relay cycle.</summary>
    public int BatchSize { get; set; } = 2000;

    /// <summary>
    /// Length of a relay cycle when the outbox had nothing more to read. Each cycle costs every consumer of
    /// every partition a transaction, so a longer cycle means bigger, fewer transactions: on the 2-core box,
    /// 250 ms gave the full system about a quarter more redemptions/s than 50 ms, for ≈ 50 ms more median lag.
    /// Within a cycle the partitions are published spread over it; 1,000 ms cost PostgreSQL less but, in bigger
    /// bursts, lengthened the redemptions' p99 at half the peak from about 40 to 70 ms.
    /// </summary>
    public int PollMilliseconds { get; set; } = 250;

    /// <summary>
    /// Consumer transactions this silo runs at once (see <see cref="ConsumerSlots"/>). On the 2-core box,
    /// with the full system at 600 redemptions/s, 2 gave p50 22–26 ms and p99 142–158 ms where
    /// unlimited (twelve at once, three consumers of four partitions) gave 48–85 and 199–400 ms.
    /// </summary>
    public int ConsumerTransactions { get; set; } = 2;

    /// <summary>
    /// A partition is sent again (from the offset of a consumer that reported a gap) at most this often, so that a
    /// replay has time to arrive before the next.
    /// </summary>
    public int ReplayAfterSeconds { get; set; } = 3;

    /// <summary>
    /// A consumer whose offset has stood this long behind what the relay sent its partition, without reporting a gap,
    /// is sent the partition again from there (its activation died with a full buffer and nothing came after). A
    /// consumer that is merely behind keeps moving.
    /// </summary>
    public int StalledAfterSeconds { get; set; } = 30;

    /// <summary>
    /// How long a batch stays in the memory streams' cache once newer ones have arrived. The cache only has to hold a
    /// batch until the consumers' cursors pass it (a consumer that misses one reports the gap and the relay sends it
    /// again from the outbox). Orleans keeps cached stream data for 30 minutes by default: under the full system's
    /// hot load that was 1 MB of new cache blocks a second, never given back, and every block a large-object
    /// allocation that brought on a full collection.
    /// </summary>
    public int StreamCacheSeconds { get; set; } = 15;

    /// <summary>How often each silo reloads the blacklist from PostgreSQL (local changes apply at once).</summary>
    public int BlacklistRefreshSeconds { get; set; } = 5;

    /// <summary>Velocity: a minute with at least this many redemptions of one dealer, branch or code ...</summary>
    public int VelocityMinPerMinute { get; set; } = 20;

    /// <summary>... and at least this many times the entity's average per minute over the trailing window is flagged.</summary>
    public int VelocityFactor { get; set; } = 5;

    public int VelocityWindowMinutes { get; set; } = 60;

    /// <summary>An entity needs activity at least this long before the minute judged, else it has no baseline yet.</summary>
    public int VelocityMinHistoryMinutes { get; set; } = 10;

    /// <summary>A generated (not named, public) code used by this many dealers is flagged as shared.</summary>
    public int CodeSharingDealers { get; set; } = 2;

    /// <summary>One customer redeeming at this many dealers within <see cref="CustomerWindowDays"/> is flagged.</summary>
    public int CustomerDealers { get; set; } = 3;

    public int CustomerWindowDays { get; set; } = 30;

    /// <summary>Every this many minutes, credit notes are generated for everything invoiced up to yesterday (0: off).</summary>
    public int SettlementIntervalMinutes { get; set; } = 60;
}
