using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Storage;
using Npgsql;

namespace CouponGrains.Grains.Events;

/// <summary>
/// Applies batches of one partition for one consumer in one PostgreSQL transaction, exactly once per event: the
/// consumer's offset for the partition (<c>pipeline_offsets</c>) is locked, only the events after it are handed to
/// the effect, and the offset moves to the last batch's end in the same transaction. A redelivered batch
/// therefore changes nothing, and one that starts after the offset (a batch before it was lost) is dropped and
/// reported on the offset row (<c>gap_at</c>), so that the relay sends the partition again from the offset.
/// </summary>
/// <remarks>
/// This replaced a row per event and consumer in <c>pipeline_processed</c>, which cost three inserts per event
/// and made the relay count them for every outbox row it deleted. That table is still read for the events
/// written before the change (position tx 0), until they have left the outbox.
/// </remarks>
public static class ConsumerTransaction
{
    /// <summary>What a consumer transaction did: how many events were new, and where the consumer now stands.</summary>
    public readonly record struct Applied(int Fresh, EventPosition Offset, int Batches);

    public static Task<Applied> RunAsync(NpgsqlDataSource db, ConsumerSlots slots, string consumer, int partition,
        IReadOnlyList<RedemptionEventBatch> batches, Func<NpgsqlConnection, NpgsqlTransaction, RedemptionEvent[], Task> apply) =>
        slots.RunAsync(() => RunNowAsync(db, consumer, partition, batches, apply));

    private static async Task<Applied> RunNowAsync(NpgsqlDataSource db, string consumer, int partition,
        IReadOnlyList<RedemptionEventBatch> batches, Func<NpgsqlConnection, NpgsqlTransaction, RedemptionEvent[], Task> apply)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync();
                await using var tx = await connection.BeginTransactionAsync();
                var (offset, hadGap) = await LockOffsetAsync(connection, tx, consumer, partition);
                var (fresh, through, taken) = Fresh(offset, batches);
                if (fresh.Count > 0 && fresh[0].Tx == 0)
                {
                    await SkipRecordedBeforeOffsetsAsync(connection, tx, consumer, fresh);
                }

                if (fresh.Count > 0)
                {
                    await apply(connection, tx, fresh.ToArray());
                }

                var gap = taken < batches.Count;
                if (through > offset || gap != hadGap)
                {
                    await MoveOffsetAsync(connection, tx, consumer, partition, through, gap);
                }

                await tx.CommitAsync();
                return new Applied(fresh.Count, through, taken);
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is PostgresErrorCodes.DeadlockDetected
                                                  or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation)
            {
                // Two partitions touched the same rows (a shared code or customer) in different orders, or raced on a
                // first insert: the transaction rolled back as a whole, so trying again is safe.
                await Task.Delay(10 * attempt);
            }
        }
    }

    /// <summary>
    /// The events after <paramref name="offset"/>, batch by batch, up to the first batch that starts after where
    /// the ones before it end (a gap: something between was lost). Returns them, the new offset, and how many
    /// batches were taken.
    /// </summary>
    internal static (List<RedemptionEvent> Fresh, EventPosition Through, int Taken) Fresh(EventPosition offset,
        IReadOnlyList<RedemptionEventBatch> batches)
    {
        var fresh = new List<RedemptionEvent>();
        var through = offset;
        var taken = 0;
        foreach (var batch in batches)
        {
            if (batch.From > through)
            {
                break;
            }

            foreach (var e in batch.Events)
            {
                // A batch also carries events at or before the offset (a replay, a batch sent twice): skip them.
                if (e.Position > through && (fresh.Count == 0 || e.Position > fresh[^1].Position))
                {
                    fresh.Add(e);
                }
            }

            through = EventPosition.Max(through, batch.Through);
            taken++;
        }

        return (fresh, through, taken);
    }

    /// <summary>Locks and reads the consumer's offset in the partition, and whether it last reported a gap.</summary>
    private static async Task<(EventPosition Offset, bool Gap)> LockOffsetAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        string consumer, int partition)
    {
        for (var created = false; ; created = true)
        {
            await using (var read = new NpgsqlCommand(
                             "SELECT tx, seq, gap_at IS NOT NULL FROM pipeline_offsets WHERE consumer = @consumer AND part = @part FOR UPDATE",
                             connection, tx))
            {
                read.Parameters.AddWithValue("consumer", consumer);
                read.Parameters.AddWithValue("part", partition);
                await using var reader = await read.ExecuteReaderAsync();
                if (await reader.ReadAsync())
                {
                    return (new EventPosition(reader.GetInt64(0), reader.GetInt64(1)), reader.GetBoolean(2));
                }
            }

            if (created)
            {
                throw new InvalidOperationException($"No offset row for {consumer} in partition {partition}.");
            }

            // The relay creates the rows when it leads; a batch handed over by a tool may come first.
            await using var create = new NpgsqlCommand(
                "INSERT INTO pipeline_offsets (consumer, part) VALUES (@consumer, @part) ON CONFLICT DO NOTHING", connection, tx);
            create.Parameters.AddWithValue("consumer", consumer);
            create.Parameters.AddWithValue("part", partition);
            await create.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Moves the offset, and records whether batches after a gap were dropped (the relay then sends the partition again).</summary>
    private static async Task MoveOffsetAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string consumer, int partition,
        EventPosition through, bool gap)
    {
        await using var command = new NpgsqlCommand(
            """
            UPDATE pipeline_offsets SET tx = @tx, seq = @seq, applied_at = now(), gap_at = CASE WHEN @gap THEN now() END
            WHERE consumer = @consumer AND part = @part
            """, connection, tx);
        command.Parameters.AddWithValue("consumer", consumer);
        command.Parameters.AddWithValue("part", partition);
        command.Parameters.AddWithValue("tx", through.Tx);
        command.Parameters.AddWithValue("seq", through.Seq);
        command.Parameters.AddWithValue("gap", gap);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Events written before offsets existed (tx 0) that this consumer recorded as applied back then.</summary>
    private static async Task SkipRecordedBeforeOffsetsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string consumer,
        List<RedemptionEvent> fresh)
    {
        await using var command = new NpgsqlCommand(
            "SELECT event_id FROM pipeline_processed WHERE consumer = @consumer AND event_id = ANY(@ids)", connection, tx);
        command.Parameters.AddWithValue("consumer", consumer);
        command.Parameters.Add(SqlParameters.Texts("ids", fresh.Where(e => e.Tx == 0).Select(e => e.EventId)));
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                recorded.Add(reader.GetString(0));
            }
        }

        fresh.RemoveAll(e => e.Tx == 0 && recorded.Contains(e.EventId));
    }
}
