namespace CouponGrains.Contracts.Events;

/// <summary>Names of the pipeline's stream provider, namespace and consumers, never repeated as literals.</summary>
public static class PipelineNames
{
    /// <summary>The stream provider the relay publishes on (memory streams: the outbox is the durable part).</summary>
    public const string StreamProvider = "pipeline";

    /// <summary>The grain storage the memory stream provider's pub-sub needs.</summary>
    public const string PubSubStore = "PubSubStore";

    /// <summary>The stream namespace; the stream key is the partition number (by dealer).</summary>
    public const string Namespace = "redemption-events";

    public const string Fraud = "fraud";
    public const string Settlement = "settlement";
    public const string Analytics = "analytics";

    /// <summary>Every consumer that must have applied an event before the relay deletes it.</summary>
    public static readonly string[] Consumers = [Fraud, Settlement, Analytics];

    /// <summary>Partition of a dealer's events: all events of one redemption (and dealer) share a stream, in seq order.</summary>
    public static int Partition(string dealerId, int partitions)
    {
        var hash = 2166136261u;
        foreach (var c in dealerId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }
}

public enum RedemptionEventType
{
    Committed,
    Reversed,
    Invoiced,
}

/// <summary>One outbox row, enriched with the redemption it is about, as published on the pipeline stream.</summary>
[GenerateSerializer, Alias("redemption-event"), Immutable]
public sealed record RedemptionEvent
{
    /// <summary>Unique per change: <c>{id}:committed</c>, <c>{id}:reversed:{n}</c>, <c>{id}:invoiced</c>. Unique in the outbox while the row lives; consumers deduplicate by <see cref="Position"/>.</summary>
    [Id(0)] public required string EventId { get; init; }
    [Id(1)] public long Seq { get; init; }

    /// <summary>The transaction that wrote the event's outbox row (with <see cref="Seq"/>, its <see cref="Position"/>).</summary>
    [Id(20)] public long Tx { get; init; }

    public EventPosition Position => new(Tx, Seq);
    [Id(2)] public RedemptionEventType Type { get; init; }
    [Id(3)] public required string RedemptionId { get; init; }

    /// <summary>Committed: the discount; reversed: the discount given back by this reversal; invoiced: the discount.</summary>
    [Id(4)] public long Amount { get; init; }
    [Id(5)] public DateTimeOffset At { get; init; }
    [Id(6)] public required string CampaignId { get; init; }
    [Id(7)] public required string DealerId { get; init; }
    [Id(8)] public string? BranchId { get; init; }
    [Id(9)] public string? CustomerId { get; init; }
    [Id(10)] public string? OrderId { get; init; }
    [Id(11)] public required string Code { get; init; }
    [Id(12)] public required string Currency { get; init; }
    [Id(13)] public DateTimeOffset RedeemedAt { get; init; }
    [Id(14)] public long Discount { get; init; }
    [Id(15)] public long EligibleValue { get; init; }
    [Id(16)] public string? InvoiceNumber { get; init; }
    [Id(17)] public DateOnly? InvoiceDate { get; init; }
    [Id(18)] public string? DeliveryProofRef { get; init; }

    /// <summary>
    /// Committed: the discounted lines as bought. Reversed: what this reversal brought back, per line (returned
    /// quantity, discount restored). Invoiced: empty. Empty too for a redemption recorded without lines.
    /// </summary>
    [Id(19)] public RedemptionEventLine[] Lines { get; init; } = [];
}

/// <summary>One discounted order line in an event: bought (committed) or brought back (reversed).</summary>
[GenerateSerializer, Alias("redemption-event-line"), Immutable]
public sealed record RedemptionEventLine
{
    /// <summary>The line's position in the order as sent (0-based).</summary>
    [Id(0)] public int Line { get; init; }
    [Id(1)] public required string Sku { get; init; }
    [Id(2)] public string? Category { get; init; }
    /// <summary>Units bought (committed) or returned by this reversal (reversed).</summary>
    [Id(3)] public long Quantity { get; init; }
    [Id(4)] public long UnitPrice { get; init; }
    /// <summary>Null when the order did not give the line's cost.</summary>
    [Id(5)] public long? UnitCost { get; init; }
    /// <summary>The line's share of the discount (committed) or the share this reversal restored (reversed).</summary>
    [Id(6)] public long Discount { get; init; }
}

/// <summary>
/// Where an event stands in the pipeline's one order: the transaction that wrote its outbox row, then its seq.
/// The relay reads rows only once every transaction below theirs has ended, so no event can ever appear
/// before a position already read, and a consumer can remember how far it got as one position.
/// </summary>
[GenerateSerializer, Alias("event-position"), Immutable]
public readonly record struct EventPosition([property: Id(0)] long Tx, [property: Id(1)] long Seq) : IComparable<EventPosition>
{
    public static readonly EventPosition Start = new(0, 0);

    public int CompareTo(EventPosition other) => Tx != other.Tx ? Tx.CompareTo(other.Tx) : Seq.CompareTo(other.Seq);

    public static bool operator <(EventPosition a, EventPosition b) => a.CompareTo(b) < 0;

    public static bool operator >(EventPosition a, EventPosition b) => a.CompareTo(b) > 0;

    public static bool operator <=(EventPosition a, EventPosition b) => a.CompareTo(b) <= 0;

    public static bool operator >=(EventPosition a, EventPosition b) => a.CompareTo(b) >= 0;

    public static EventPosition Max(EventPosition a, EventPosition b) => a >= b ? a : b;

    public override string ToString() => $"{Tx}/{Seq}";
}

/// <summary>
/// Every event of one partition after <see cref="From"/> up to and including <see cref="Through"/>, in position
/// order. A consumer that has applied its partition up to <see cref="From"/> or further can apply the batch and
/// then stands at <see cref="Through"/>; one that stands before <see cref="From"/> has missed a batch and must
/// wait for the relay to send it again.
/// </summary>
[GenerateSerializer, Alias("redemption-event-batch"), Immutable]
public sealed record RedemptionEventBatch(
    [property: Id(0)] RedemptionEvent[] Events,
    [property: Id(1)] EventPosition From,
    [property: Id(2)] EventPosition Through);
