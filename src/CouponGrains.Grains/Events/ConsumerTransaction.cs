using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Events;

/// <summary>
/// Applies a batch of events for one consumer in one PostgreSQL transaction, exactly once: the event ids
/// are recorded in <c>pipeline_processed</c> in the same transaction as the effect, and only the events
/// not recorded before are handed to the effect. A redelivered batch therefore changes nothing. The
/// relay deletes the outbox rows every consumer has applied, once a second in one statement
/// (<see cref="AppliedEverywhere"/>): done here, by each consumer, it cost twelve index probes per event.
/// </summary>
public static class ConsumerTransaction
{
    public static Task<int> RunAsync(NpgsqlDataSource db, ConsumerSlots slots, string consumer, IReadOnlyList<RedemptionEvent> events,
        Func<NpgsqlConnection, NpgsqlTransaction, RedemptionEvent[], Task> apply) =>
        events.Count == 0 ? Task.FromResult(0) : slots.RunAsync(() => RunNowAsync(db, consumer, events, apply));

    private static async Task<int> RunNowAsync(NpgsqlDataSource db, string consumer, IReadOnlyList<RedemptionEvent> events,
        Func<NpgsqlConnection, NpgsqlTransaction, RedemptionEvent[], Task> apply)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync();
                await using var tx = await connection.BeginTransactionAsync();
                var fresh = await ClaimAsync(connection, tx, consumer, events);
                if (fresh.Length > 0)
                {
                    await apply(connection, tx, fresh);
                }

                await tx.CommitAsync();
                return fresh.Length;
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
    /// SQL predicate on an outbox row <c>o</c>: every consumer has applied its event. Needs the parameters of
    /// <see cref="AddAppliedEverywhereParameters"/>.
    /// </summary>
    internal const string AppliedEverywhere =
        "(SELECT count(*) FROM pipeline_processed p WHERE p.event_id = o.event_id AND p.consumer = ANY(@consumers)) = @n";

    internal static void AddAppliedEverywhereParameters(NpgsqlParameterCollection parameters)
    {
        parameters.Add(SqlParameters.Texts("consumers", PipelineNames.Consumers));
        parameters.AddWithValue("n", (long)PipelineNames.Consumers.Length);
    }

    private static async Task<RedemptionEvent[]> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string consumer,
        IReadOnlyList<RedemptionEvent> events)
    {
        var ids = events.Select(e => e.EventId).Distinct(StringComparer.Ordinal).ToArray();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO pipeline_processed (event_id, consumer)
            SELECT id, @consumer FROM unnest(@ids) AS id ORDER BY id
            ON CONFLICT DO NOTHING RETURNING event_id
            """, connection, tx);
        command.Parameters.AddWithValue("consumer", consumer);
        command.Parameters.Add(SqlParameters.Texts("ids", ids));
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                claimed.Add(reader.GetString(0));
            }
        }

        // A batch may carry one event twice (a replay overlapping a first publication): apply it once.
        return events.Where(e => claimed.Remove(e.EventId)).ToArray();
    }
}
