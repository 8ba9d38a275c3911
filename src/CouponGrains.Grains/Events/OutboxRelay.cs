using System.Text.Json;
using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Analytics;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Streams;

namespace CouponGrains.Grains.Events;

/// <summary>
/// Hands outbox rows to the pipeline streams in position order (see <see cref="EventPosition"/>) and deletes them
/// once every consumer's offset has passed them. One relay is active per cluster: the silo holding a session
/// advisory lock (the others wait for it). Two relays overlapping for a moment (a lock connection that died
/// unnoticed) only publish twice, which the consumers' offsets ignore.
/// <para>
/// It reads only rows whose transaction is below the oldest one still open, so no row can ever turn up behind
/// what it has read. Each partition's batches are contiguous: a batch starts where the partition's previous one
/// ended. A consumer that finds a batch starting after its offset has lost one: it drops it and says so on its
/// offset row, and the relay sends the partition again from that offset. An offset that stands still behind what
/// was sent for <see cref="PipelineOptions.StalledAfterSeconds"/> (an activation that died with a full buffer, and
/// nothing after it) is sent again too. A relay that starts (a restart, a failover) sends every partition from its
/// slowest consumer's offset. That is the at-least-once half; the offsets are the exactly-once half.
/// </para>
/// </summary>
public sealed class OutboxRelay(
    Database database,
    IClusterClient client,
    IHostApplicationLifetime lifetime,
    IOptions<PipelineOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const long LockKey = 0x436F75706F6F; // one relay per database
    private static readonly EventPosition s_end = new(long.MaxValue, long.MaxValue);

    private readonly PipelineOptions _options = options.Value;
    private readonly NpgsqlDataSource _db = database.Background;
    private long _published;
    private long _deleted;
    private long _reads;

    /// <summary>
    /// Events published (first time and replays), outbox rows deleted, and reads of the outbox made by this silo's
    /// relay while it leads: a read that finds nothing while the outbox has rows means the horizon is held back.
    /// </summary>
    public (long Published, long Deleted, long Reads) Stats =>
        (Interlocked.Read(ref _published), Interlocked.Read(ref _deleted), Interlocked.Read(ref _reads));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.RelayEnabled)
        {
            return;
        }

        // Streams need the silo running; the silo is itself a hosted service that starts before this returns.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled()))
        {
            try
            {
                await started.Task;
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lockConnection = await _db.OpenConnectionAsync(stoppingToken);
                await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", lockConnection))
                {
                    take.Parameters.AddWithValue("k", LockKey);
                    if (!(bool)(await take.ExecuteScalarAsync(stoppingToken))!)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                        continue;
                    }
                }

                logger.LogInformation("Outbox relay active on this silo");
                await LeadAsync(lockConnection, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Lost the database or the lock connection: start over (the outbox still holds everything).
                logger.LogWarning(e, "Outbox relay cycle failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>A consumer's offset in a partition as last seen, and since when it has stood there.</summary>
    private readonly record struct Seen(EventPosition Offset, DateTime Since);

    /// <summary>A consumer's offset row: where it stands, and whether its last transaction dropped batches after a gap.</summary>
    private readonly record struct Offset(EventPosition At, bool Gap);

    private TimeSpan PollInterval => TimeSpan.FromMilliseconds(_options.PollMilliseconds);

    private async Task LeadAsync(NpgsqlConnection lockConnection, CancellationToken ct)
    {
        var streams = client.GetStreamProvider(PipelineNames.StreamProvider);
        var partitions = await LayoutAsync(ct);
        var offsets = await OffsetsAsync(partitions, create: true, ct);

        // Where each partition's last batch ended: a new relay starts every partition at its slowest consumer.
        var sent = new EventPosition[partitions];
        for (var p = 0; p < partitions; p++)
        {
            sent[p] = PipelineNames.Consumers.Select(c => offsets[(c, p)].At).Min();
        }

        var cursor = sent.Min();
        var seen = new Dictionary<(string, int), Seen>();
        var replayed = new DateTime[partitions];
        var lastCheck = DateTime.UtcNow;
        var lastHousekeeping = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            var cycle = System.Diagnostics.Stopwatch.StartNew();
            var rows = await ReadAsync(cursor, s_end, ct);
            Interlocked.Increment(ref _reads);
            // A full read means the relay is behind: it publishes at once and reads again. Otherwise the partitions
            // go out spread over the poll interval, so that their consumers' transactions reach PostgreSQL one
            // partition at a time instead of all in one burst (which set the redemptions' p99 at half the peak).
            var behind = rows.Count >= _options.BatchSize;
            if (rows.Count > 0)
            {
                var through = rows[^1].Position;
                await PublishAsync(streams, partitions, rows, sent, through, behind ? TimeSpan.Zero : PollInterval / partitions, ct);
                cursor = through;
            }

            var now = DateTime.UtcNow;
            if (now - lastCheck >= TimeSpan.FromSeconds(1))
            {
                lastCheck = now;
                offsets = await OffsetsAsync(partitions, create: false, ct);
                await ReplayAsync(streams, partitions, offsets, sent, seen, replayed, now, ct);
                await AdvanceIdleAsync(partitions, sent, cursor, ct);
                await SweepAsync(offsets.Values.Min(o => o.At), ct);
            }

            if (now - lastHousekeeping >= TimeSpan.FromMinutes(1))
            {
                lastHousekeeping = now;
                await ForgetRecordsBeforeOffsetsAsync(ct);
                await using var alive = new NpgsqlCommand("SELECT 1", lockConnection);
                await alive.ExecuteScalarAsync(ct); // the lock lives as long as this session: fail over if it died
            }

            if (!behind && cycle.Elapsed < PollInterval)
            {
                await Task.Delay(PollInterval - cycle.Elapsed, ct);
            }
        }
    }

    /// <summary>
    /// The partition count, fixed the first time a relay leads: offsets taken under one partitioning mean nothing
    /// under another, so a changed <see cref="PipelineOptions.Partitions"/> is reported and not applied.
    /// </summary>
    private async Task<int> LayoutAsync(CancellationToken ct)
    {
        await using var command = _db.CreateCommand(
            """
            INSERT INTO pipeline_layout (id, partitions) VALUES (1, @p) ON CONFLICT DO NOTHING;
            SELECT partitions FROM pipeline_layout WHERE id = 1;
            """);
        command.Parameters.AddWithValue("p", Math.Max(1, _options.Partitions));
        var partitions = (int)(await command.ExecuteScalarAsync(ct))!;
        if (partitions != Math.Max(1, _options.Partitions))
        {
            logger.LogWarning("Pipeline:Partitions is {Configured}, but the consumers' offsets were taken under {Partitions} partitions: keeping {Partitions}",
                _options.Partitions, partitions, partitions);
        }

        return partitions;
    }

    /// <summary>Every consumer's offset in every partition (missing rows are created when the relay starts to lead).</summary>
    private async Task<Dictionary<(string, int), Offset>> OffsetsAsync(int partitions, bool create, CancellationToken ct)
    {
        const string createRows =
            """
            INSERT INTO pipeline_offsets (consumer, part)
            SELECT c, p FROM unnest(@consumers) AS c CROSS JOIN generate_series(0, @partitions - 1) AS p
            ON CONFLICT DO NOTHING;
            """;
        await using var command = _db.CreateCommand(
            (create ? createRows : "") +
            "SELECT consumer, part, tx, seq, gap_at IS NOT NULL FROM pipeline_offsets WHERE consumer = ANY(@consumers) AND part < @partitions");
        command.Parameters.Add(SqlParameters.Texts("consumers", PipelineNames.Consumers));
        command.Parameters.AddWithValue("partitions", partitions);
        var offsets = new Dictionary<(string, int), Offset>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            offsets[(reader.GetString(0), reader.GetInt32(1))] = new Offset(new EventPosition(reader.GetInt64(2), reader.GetInt64(3)), reader.GetBoolean(4));
        }

        return offsets;
    }

    /// <summary>
    /// Sends a partition again from the offset of a consumer that reported a gap (it dropped batches after one was
    /// lost), or that has stood still behind what was sent to the partition for <see cref="PipelineOptions.StalledAfterSeconds"/>
    /// (its activation died with a full buffer, and no batch came after to show the gap). A partition is sent again at
    /// most every <see cref="PipelineOptions.ReplayAfterSeconds"/>, so the replay has time to arrive. A consumer that
    /// is merely behind keeps moving and reports nothing, so replays never pile onto a backlog. The other consumers of
    /// the partition receive the replay too and skip what their offsets have passed.
    /// </summary>
    private async Task ReplayAsync(IStreamProvider streams, int partitions, Dictionary<(string, int), Offset> offsets,
        EventPosition[] sent, Dictionary<(string, int), Seen> seen, DateTime[] replayed, DateTime now, CancellationToken ct)
    {
        var stalledAfter = TimeSpan.FromSeconds(Math.Max(1, _options.StalledAfterSeconds));
        var spacing = TimeSpan.FromSeconds(Math.Max(1, _options.ReplayAfterSeconds));
        for (var p = 0; p < partitions; p++)
        {
            EventPosition? from = null;
            foreach (var consumer in PipelineNames.Consumers)
            {
                var offset = offsets[(consumer, p)];
                if (offset.At >= sent[p])
                {
                    seen.Remove((consumer, p));
                    continue;
                }

                if (!seen.TryGetValue((consumer, p), out var last) || last.Offset != offset.At)
                {
                    seen[(consumer, p)] = last = new Seen(offset.At, now);
                }

                if (offset.Gap || now - last.Since >= stalledAfter)
                {
                    from = from is { } f && f < offset.At ? f : offset.At;
                }
            }

            if (from is not { } start || now - replayed[p] < spacing)
            {
                continue;
            }

            replayed[p] = now;
            foreach (var consumer in PipelineNames.Consumers)
            {
                if (seen.TryGetValue((consumer, p), out var last))
                {
                    seen[(consumer, p)] = last with { Since = now }; // a stalled consumer waits its full time again
                }
            }

            logger.LogInformation("Pipeline partition {Partition}: a consumer stands at {Offset} behind {Sent}; sending again", p, start, sent[p]);
            var upTo = sent[p];
            for (var position = start; position < upTo;)
            {
                var rows = await ReadAsync(position, upTo, ct);
                var through = rows.Count < _options.BatchSize ? upTo : rows[^1].Position;

                // Sent even when none of the range is this partition's, so that its consumers move past it.
                await PublishAsync(streams, p, rows.Where(r => PipelineNames.Partition(r.DealerId, partitions) == p).ToArray(), position, through);
                position = through;
            }
        }
    }

    /// <summary>
    /// Publishes the rows read up to <paramref name="through"/> to their partitions: each batch starts where the
    /// partition's previous one ended (<paramref name="sent"/>) and ends at <paramref name="through"/>. Rows a
    /// partition has been sent already (at or before its start) are left out. The partitions go out in partition
    /// order, <paramref name="stagger"/> apart.
    /// </summary>
    private async Task PublishAsync(IStreamProvider streams, int partitions, List<RedemptionEvent> rows, EventPosition[] sent,
        EventPosition through, TimeSpan stagger, CancellationToken ct)
    {
        var tasks = new List<Task>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var slot = 0;
        foreach (var group in rows.GroupBy(r => PipelineNames.Partition(r.DealerId, partitions)).OrderBy(g => g.Key))
        {
            var p = group.Key;
            var events = group.Where(e => e.Position > sent[p]).ToArray();
            if (events.Length > 0)
            {
                var due = stagger * slot++;
                if (due > started.Elapsed)
                {
                    await Task.Delay(due - started.Elapsed, ct);
                }

                tasks.Add(PublishAsync(streams, p, events, sent[p], through));
                sent[p] = through;
            }
        }

        await Task.WhenAll(tasks);
    }

    /// <summary>Publishes one partition's events after <paramref name="from"/> up to <paramref name="through"/> as one batch.</summary>
    private Task PublishAsync(IStreamProvider streams, int partition, RedemptionEvent[] events, EventPosition from, EventPosition through)
    {
        Interlocked.Add(ref _published, events.Length);
        return streams.GetStream<RedemptionEventBatch>(StreamId.Create(PipelineNames.Namespace, partition.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .OnNextAsync(new RedemptionEventBatch(events, from, through));
    }

    /// <summary>
    /// Moves the offsets of partitions that had no events since their last batch up to the cursor, where their
    /// consumers stand at or past that batch's end: there is nothing between for them to apply. Without this a
    /// quiet partition would hold back the sweep. Offsets a consumer transaction holds are skipped this time.
    /// </summary>
    private async Task AdvanceIdleAsync(int partitions, EventPosition[] sent, EventPosition cursor, CancellationToken ct)
    {
        var idle = Enumerable.Range(0, partitions).Where(p => sent[p] < cursor).ToArray();
        if (idle.Length == 0)
        {
            return;
        }

        await using var command = _db.CreateCommand(
            """
            UPDATE pipeline_offsets o SET tx = @tx, seq = @seq, applied_at = now()
            FROM (SELECT f.consumer, f.part FROM pipeline_offsets f
                  JOIN unnest(@parts, @txs, @seqs) AS s(part, tx, seq) ON s.part = f.part
                  WHERE f.consumer = ANY(@consumers) AND (f.tx, f.seq) >= (s.tx, s.seq) AND (f.tx, f.seq) < (@tx, @seq)
                  ORDER BY f.consumer, f.part
                  FOR UPDATE OF f SKIP LOCKED) AS l
            WHERE o.consumer = l.consumer AND o.part = l.part
            """);
        command.Parameters.Add(SqlParameters.Ints("parts", idle));
        command.Parameters.Add(SqlParameters.Longs("txs", idle.Select(p => sent[p].Tx)));
        command.Parameters.Add(SqlParameters.Longs("seqs", idle.Select(p => sent[p].Seq)));
        command.Parameters.Add(SqlParameters.Texts("consumers", PipelineNames.Consumers));
        command.Parameters.AddWithValue("tx", cursor.Tx);
        command.Parameters.AddWithValue("seq", cursor.Seq);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The final rows after <paramref name="after"/> up to <paramref name="upTo"/>, in position order: only rows
    /// whose transaction is below the oldest one still open, so none can appear behind them later. One ledger
    /// lookup per row (LATERAL), never a hash of the whole ledger when its statistics lag.
    /// </summary>
    private async Task<List<RedemptionEvent>> ReadAsync(EventPosition after, EventPosition upTo, CancellationToken ct)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT o.seq, o.event_id, o.type, o.redemption_id, o.amount, o.at, r.campaign_id, r.dealer_id, r.branch_id,
                   r.customer_id, r.order_id, r.code, r.currency, r.redeemed_at, r.discount, r.eligible_value,
                   r.invoice_number, r.invoice_date, r.delivery_proof_ref,
                   CASE o.type WHEN 'redemption_committed' THEN r.lines WHEN 'redemption_reversed' THEN o.lines END, o.tx
            FROM (SELECT * FROM outbox
                  WHERE (tx, seq) > (@tx, @seq) AND (tx, seq) <= (@uptx, @upseq)
                    AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                  ORDER BY tx, seq LIMIT @limit) AS o
            CROSS JOIN LATERAL (SELECT * FROM redemptions WHERE id = o.redemption_id LIMIT 1) AS r
            ORDER BY o.tx, o.seq
            """);
        command.Parameters.AddWithValue("tx", after.Tx);
        command.Parameters.AddWithValue("seq", after.Seq);
        command.Parameters.AddWithValue("uptx", upTo.Tx);
        command.Parameters.AddWithValue("upseq", upTo.Seq);
        command.Parameters.AddWithValue("limit", _options.BatchSize);
        var rows = new List<RedemptionEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var type = reader.GetString(2) switch
            {
                "redemption_committed" => RedemptionEventType.Committed,
                "redemption_reversed" => RedemptionEventType.Reversed,
                _ => RedemptionEventType.Invoiced,
            };
            rows.Add(new RedemptionEvent
            {
                Seq = reader.GetInt64(0),
                Tx = reader.GetInt64(20),
                EventId = reader.GetString(1),
                Type = type,
                RedemptionId = reader.GetString(3),
                Amount = reader.GetInt64(4),
                At = Utc(reader.GetFieldValue<DateTime>(5)),
                CampaignId = reader.GetString(6),
                DealerId = reader.GetString(7),
                BranchId = reader.IsDBNull(8) ? null : reader.GetString(8),
                CustomerId = reader.IsDBNull(9) ? null : reader.GetString(9),
                OrderId = reader.IsDBNull(10) ? null : reader.GetString(10),
                Code = reader.GetString(11),
                Currency = reader.GetString(12),
                RedeemedAt = Utc(reader.GetFieldValue<DateTime>(13)),
                Discount = reader.GetInt64(14),
                EligibleValue = reader.GetInt64(15),
                InvoiceNumber = reader.IsDBNull(16) ? null : reader.GetString(16),
                InvoiceDate = reader.IsDBNull(17) ? null : reader.GetFieldValue<DateOnly>(17),
                DeliveryProofRef = reader.IsDBNull(18) ? null : reader.GetString(18),
                Lines = reader.IsDBNull(19) ? [] : Lines(type, reader.GetString(19)),
            });
        }

        return rows;
    }

    /// <summary>
    /// An event's lines from the one jsonb column the batch query picked: the redemption's lines as bought for a
    /// committed event (their quantity, price, cost and discount share never change), the outbox row's own lines
    /// (what that reversal brought back) for a reversed one.
    /// </summary>
    private static RedemptionEventLine[] Lines(RedemptionEventType type, string json) => type == RedemptionEventType.Committed
        ? LineAnalytics.Bought(JsonSerializer.Deserialize<RedemptionLine[]>(json, RedemptionLedger.Json) ?? [])
        : JsonSerializer.Deserialize<RedemptionEventLine[]>(json, RedemptionLedger.Json) ?? [];

    /// <summary>Deletes the rows at or before the slowest consumer's offset, oldest first, 20,000 at a time.</summary>
    private async Task SweepAsync(EventPosition applied, CancellationToken ct)
    {
        const int limit = 20_000;
        int deleted;
        do
        {
            await using var command = _db.CreateCommand(
                $"""
                DELETE FROM outbox WHERE (tx, seq) IN (
                    SELECT tx, seq FROM outbox WHERE (tx, seq) <= (@tx, @seq) ORDER BY tx, seq LIMIT {limit})
                """);
            command.Parameters.AddWithValue("tx", applied.Tx);
            command.Parameters.AddWithValue("seq", applied.Seq);
            deleted = await command.ExecuteNonQueryAsync(ct);
            Interlocked.Add(ref _deleted, deleted);
        }
        while (deleted == limit);
    }

    /// <summary>The per-event records of the time before offsets are needed only while such events are in the outbox.</summary>
    private async Task ForgetRecordsBeforeOffsetsAsync(CancellationToken ct)
    {
        await using var command = _db.CreateCommand(
            "DELETE FROM pipeline_processed WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE tx = 0)");
        await command.ExecuteNonQueryAsync(ct);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
