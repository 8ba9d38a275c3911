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
/// Hands outbox rows to the pipeline streams, in seq order, and deletes each row once every consumer has
/// durably applied it. One relay is active per cluster: the silo holding a session advisory lock (the
/// others wait for it). Two relays overlapping for a moment (a lock connection that died unnoticed) only
/// publish twice, which the consumers ignore.
/// <para>
/// Rows can commit out of seq order (concurrent ledger writers take their seqs before they commit), so
/// a seq skipped over is watched for a while; anything published that is still in the outbox after
/// <see cref="PipelineOptions.ReplayAfterSeconds"/> is published again, and after a restart everything
/// left in the outbox is. That replay is the at-least-once half; consumer dedup is the exactly-once half.
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
    private static readonly TimeSpan s_gapWatch = TimeSpan.FromSeconds(10);

    private readonly PipelineOptions _options = options.Value;
    private readonly NpgsqlDataSource _db = database.DataSource;
    private long _published;
    private long _deleted;

    /// <summary>Events published (first time and replays) and outbox rows deleted by this silo, for metrics.</summary>
    public (long Published, long Deleted) Stats => (Interlocked.Read(ref _published), Interlocked.Read(ref _deleted));

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

    /// <summary>A row this relay published and has not seen deleted: its partition, when and in which order it went out.</summary>
    private readonly record struct Published(int Partition, long Ordinal, DateTime At);

    private async Task LeadAsync(NpgsqlConnection lockConnection, CancellationToken ct)
    {
        var streams = client.GetStreamProvider(PipelineNames.StreamProvider);
        var partitions = Math.Max(1, _options.Partitions);
        var replayAfter = TimeSpan.FromSeconds(Math.Max(1, _options.ReplayAfterSeconds));
        var cursor = 0L;
        var ordinal = 0L;
        var gaps = new Dictionary<long, DateTime>();
        var published = new Dictionary<long, Published>();
        var lastCheck = DateTime.UtcNow;
        var lastHousekeeping = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            var rows = await ReadAsync(cursor, gaps.Keys.ToArray(), null, ct);
            if (rows.Count > 0)
            {
                await PublishAsync(streams, partitions, rows);
                foreach (var row in rows)
                {
                    gaps.Remove(row.Seq);
                    published[row.Seq] = new Published(PipelineNames.Partition(row.DealerId, partitions), ++ordinal, now);
                }

                var max = rows.Max(r => r.Seq);
                var seen = rows.Where(r => r.Seq > cursor).Select(r => r.Seq).ToHashSet();
                for (var seq = cursor + 1; seq < max && cursor > 0 && max - cursor < 100_000; seq++)
                {
                    if (!seen.Contains(seq))
                    {
                        gaps.TryAdd(seq, now);
                    }
                }

                cursor = Math.Max(cursor, max);
            }

            foreach (var (seq, since) in gaps.ToArray())
            {
                // A seq that never shows up belonged to a rolled-back transaction; a late one is still read
                // after the watch ends, by the replay of everything left in the outbox.
                if (now - since > s_gapWatch)
                {
                    gaps.Remove(seq);
                }
            }

            if (now - lastCheck >= TimeSpan.FromSeconds(1))
            {
                lastCheck = now;
                await SweepAsync(cursor, ct);
                await ReplayAsync(streams, partitions, published, replayAfter, cursor, now, ct);
            }

            if (now - lastHousekeeping >= TimeSpan.FromMinutes(1))
            {
                lastHousekeeping = now;
                await PruneProcessedAsync(ct);
                await using var alive = new NpgsqlCommand("SELECT 1", lockConnection);
                await alive.ExecuteScalarAsync(ct); // the lock lives as long as this session: fail over if it died
            }

            if (rows.Count < _options.BatchSize)
            {
                await Task.Delay(_options.PollMilliseconds, ct);
            }
        }
    }

    /// <summary>
    /// Publishes again what a consumer evidently dropped. A stream hands a consumer its batches in order, so a row
    /// still in the outbox while a row published after it on the same partition is gone (applied everywhere) was
    /// given up by some consumer: it goes out again at once. Anything else still there after
    /// <see cref="PipelineOptions.ReplayAfterSeconds"/> goes out again too (e.g. nothing followed it). A consumer
    /// that is merely behind is left alone, so replays never pile onto a backlog.
    /// </summary>
    private async Task ReplayAsync(IStreamProvider streams, int partitions, Dictionary<long, Published> published, TimeSpan replayAfter,
        long cursor, DateTime now, CancellationToken ct)
    {
        var remaining = new HashSet<long>();
        await using (var command = _db.CreateCommand("SELECT seq FROM outbox WHERE seq <= @cursor ORDER BY seq LIMIT 100000"))
        {
            command.Parameters.AddWithValue("cursor", cursor);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                remaining.Add(reader.GetInt64(0));
            }
        }

        var applied = new long[partitions];
        foreach (var (seq, p) in published.ToArray())
        {
            if (!remaining.Contains(seq))
            {
                applied[p.Partition] = Math.Max(applied[p.Partition], p.Ordinal);
                published.Remove(seq);
            }
        }

        // Left in the outbox but never published by this relay (e.g. read before a failover): older than any cursor.
        var stale = remaining.Where(seq => published.TryGetValue(seq, out var p)
            ? p.Ordinal < applied[p.Partition] && now - p.At >= TimeSpan.FromSeconds(1) || now - p.At >= replayAfter
            : true).Order().Take(_options.BatchSize).ToArray();
        if (stale.Length == 0)
        {
            return;
        }

        var rows = await ReadAsync(0, stale, 0, ct);
        logger.LogInformation("Replaying {Count} outbox events not yet applied by every consumer", rows.Count);
        await PublishAsync(streams, partitions, rows);
        foreach (var row in rows)
        {
            var previous = published.GetValueOrDefault(row.Seq);
            published[row.Seq] = new Published(PipelineNames.Partition(row.DealerId, partitions), previous.Ordinal, now);
        }
    }

    private async Task PublishAsync(IStreamProvider streams, int partitions, List<RedemptionEvent> rows)
    {
        var tasks = rows.GroupBy(r => PipelineNames.Partition(r.DealerId, partitions))
            .Select(g => streams.GetStream<RedemptionEventBatch>(
                    StreamId.Create(PipelineNames.Namespace, g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .OnNextAsync(new RedemptionEventBatch(g.OrderBy(r => r.Seq).ToArray())));
        await Task.WhenAll(tasks);
        Interlocked.Add(ref _published, rows.Count);
    }

    /// <summary>
    /// Rows after the cursor (up to <paramref name="upTo"/> when given) and the rows with the listed seqs: two
    /// index range reads rather than one OR, which the planner can only answer by scanning the outbox, and
    /// one ledger lookup per row (LATERAL), never a hash of the whole ledger when its statistics lag.
    /// </summary>
    private async Task<List<RedemptionEvent>> ReadAsync(long after, long[] gaps, long? upTo, CancellationToken ct)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT o.seq, o.event_id, o.type, o.redemption_id, o.amount, o.at, r.campaign_id, r.dealer_id, r.branch_id,
                   r.customer_id, r.order_id, r.code, r.currency, r.redeemed_at, r.discount, r.eligible_value,
                   r.invoice_number, r.invoice_date, r.delivery_proof_ref,
                   CASE o.type WHEN 'redemption_committed' THEN r.lines WHEN 'redemption_reversed' THEN o.lines END
            FROM ((SELECT * FROM outbox WHERE seq > @after AND (@upto::bigint IS NULL OR seq <= @upto) ORDER BY seq LIMIT @limit)
                  UNION
                  (SELECT * FROM outbox WHERE seq = ANY(@gaps))) AS o
            CROSS JOIN LATERAL (SELECT * FROM redemptions WHERE id = o.redemption_id LIMIT 1) AS r
            ORDER BY o.seq LIMIT @limit
            """);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.Add(SqlParameters.Longs("gaps", gaps));
        command.Parameters.Add(new NpgsqlParameter<long?>("upto", NpgsqlDbType.Bigint) { TypedValue = upTo });
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

    /// <summary>Deletes the rows every consumer has applied, oldest first, 20,000 at a time.</summary>
    private async Task SweepAsync(long cursor, CancellationToken ct)
    {
        const int limit = 20_000;
        int deleted;
        do
        {
            await using var command = _db.CreateCommand(
                $"""
                DELETE FROM outbox WHERE seq IN (
                    SELECT o.seq FROM outbox o
                    WHERE o.seq <= @cursor AND {ConsumerTransaction.AppliedEverywhere}
                    ORDER BY o.seq LIMIT {limit})
                """);
            command.Parameters.AddWithValue("cursor", cursor);
            ConsumerTransaction.AddAppliedEverywhereParameters(command.Parameters);
            deleted = await command.ExecuteNonQueryAsync(ct);
            Interlocked.Add(ref _deleted, deleted);
        }
        while (deleted == limit);
    }

    private async Task PruneProcessedAsync(CancellationToken ct)
    {
        await using var command = _db.CreateCommand(
            """
            DELETE FROM pipeline_processed p
            WHERE p.processed_at < now() - make_interval(hours => @hours)
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = p.event_id)
            """);
        command.Parameters.AddWithValue("hours", Math.Max(1, _options.ProcessedRetentionHours));
        await command.ExecuteNonQueryAsync(ct);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
