using System.Text;
using CouponGrains.Contracts.Audit;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Audit;

/// <summary>
/// The audit trail: appends rows, seals them into a SHA-256 hash chain, queries and verifies. A seal is
/// a row of <c>audit_seals</c> (seq, audit row id, prev_hash, hash); audit rows themselves are never
/// updated. Rows are chained in the order their transactions ended (migration 0013): the sealer takes
/// the rows whose transaction is below every transaction still open, in (tx, id) order, from where it
/// stopped. Sealing runs under a transaction-scoped advisory lock, so however many silos call it, one
/// seals at a time and seq numbers never fork. Writers never wait for the seal: it happens in the
/// background (<see cref="AuditSealer"/>, every ~200 ms or when <see cref="RequestSeal"/> is called).
/// </summary>
public sealed class AuditLog(Database database, ILogger<AuditLog> logger)
{
    private const long SealLockKey = 0x4175646974; // "Audit"
    private const int SealBatch = 1000;
    private const string RowColumns =
        "id, at, actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents::text, before::text, after::text";

    /// <summary>How long <see cref="SealPendingAsync"/> waits for the transactions open when it was called.</summary>
    private static readonly TimeSpan s_inFlightWait = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _db = database.DataSource;
    private readonly NpgsqlDataSource _sealing = database.Background;
    private readonly SemaphoreSlim _sealRequested = new(0, 1);

    /// <summary>Appends one entry in its own transaction, for changes that are not on the hot path.</summary>
    public async Task AppendAsync(AuditEntry entry, CancellationToken ct)
    {
        await using var batch = _db.CreateBatch();
        AuditSql.AddTo(batch, entry);
        await batch.ExecuteNonQueryAsync(ct);
        RequestSeal();
    }

    /// <summary>Asks the sealer to run now rather than at its next tick.</summary>
    public void RequestSeal()
    {
        if (_sealRequested.CurrentCount == 0)
        {
            try
            {
                _sealRequested.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller asked at the same moment: one request is enough.
            }
        }
    }

    /// <summary>Waits until a seal is requested or <paramref name="interval"/> passes.</summary>
    internal Task WaitForSealRequestAsync(TimeSpan interval, CancellationToken ct) => _sealRequested.WaitAsync(interval, ct);

    /// <summary>
    /// Seals every row committed before the call, waiting up to 5 s for the transactions then open to end.
    /// Returns how many it sealed; 0 when another silo holds the seal lock.
    /// </summary>
    public Task<int> SealPendingAsync(CancellationToken ct) => SealAsync(s_inFlightWait, ct);

    /// <summary>
    /// Seals every row that can be sealed now, and waits up to <paramref name="waitForInFlight"/> for the
    /// transactions open at the call to end, so that the rows they commit meanwhile are sealed too.
    /// </summary>
    public async Task<int> SealAsync(TimeSpan waitForInFlight, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + waitForInFlight;
        long? target = null;
        var total = 0;
        while (true)
        {
            var (sealedNow, horizon, next) = await SealBatchAsync(ct);
            if (sealedNow < 0)
            {
                return total;
            }

            total += sealedNow;
            target ??= next;
            if (sealedNow == SealBatch)
            {
                continue;
            }

            if (horizon >= target || DateTime.UtcNow >= deadline)
            {
                return total;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), ct);
        }
    }

    /// <summary>
    /// One batch: the number sealed (−1 when the lock is held elsewhere), the horizon it sealed below (every
    /// transaction under it had ended) and the next transaction id then (every one committed by then is below it).
    /// </summary>
    private async Task<(int Sealed, long Horizon, long Next)> SealBatchAsync(CancellationToken ct)
    {
        await using var connection = await _sealing.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@k)", connection, tx))
        {
            lockCommand.Parameters.AddWithValue("k", SealLockKey);
            if (!(bool)(await lockCommand.ExecuteScalarAsync(ct))!)
            {
                return (-1, 0, 0);
            }
        }

        // Transaction ids (xid8) travel as bigint: PostgreSQL has no direct cast, so through text.
        long seq = 0, headTx = 0, headId = 0, horizon, next;
        var previous = AuditChain.Genesis;
        await using (var head = new NpgsqlCommand(
                         """
                         SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, h.seq, h.hash, h.tx::text::bigint, h.audit_id
                         FROM pg_current_snapshot() AS s LEFT JOIN audit_chain_head AS h ON true
                         """, connection, tx))
        await using (var reader = await head.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            horizon = reader.GetInt64(0);
            next = reader.GetInt64(1);
            if (!reader.IsDBNull(2))
            {
                seq = reader.GetInt64(2);
                previous = reader.GetFieldValue<byte[]>(3);
                headTx = reader.GetInt64(4);
                headId = reader.GetInt64(5);
            }
        }

        // Below the horizon just read, as an index bound: rows above it (held back by an open transaction)
        // are never scanned, however many there are.
        var rows = new List<AuditRowContent>();
        var lastTx = 0L;
        await using (var read = new NpgsqlCommand(
                         $"""
                         SELECT {RowColumns}, tx::text::bigint AS tx_number FROM audit_log
                         WHERE tx IS NOT NULL AND (tx, id) > (@tx::text::xid8, @id) AND tx < @horizon::text::xid8
                         ORDER BY tx, id LIMIT {SealBatch}
                         """, connection, tx))
        {
            read.Parameters.AddWithValue("tx", headTx);
            read.Parameters.AddWithValue("id", headId);
            read.Parameters.AddWithValue("horizon", horizon);
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(ReadContent(reader));
                lastTx = reader.GetInt64(12);
            }
        }

        if (rows.Count == 0)
        {
            return (0, horizon, next);
        }

        var ids = new long[rows.Count];
        var seqs = new long[rows.Count];
        var prevs = new byte[rows.Count][];
        var hashes = new byte[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            ids[i] = rows[i].Id;
            seqs[i] = ++seq;
            prevs[i] = previous;
            hashes[i] = previous = AuditChain.Hash(previous, rows[i]);
        }

        await using (var insert = new NpgsqlCommand(
                         """
                         INSERT INTO audit_seals (seq, audit_id, prev_hash, hash)
                         SELECT * FROM unnest(@seqs, @ids, @prevs, @hashes);
                         INSERT INTO audit_chain_head (singleton, seq, hash, tx, audit_id) VALUES (true, @s, @h, @tx::text::xid8, @id)
                         ON CONFLICT (singleton) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, tx = excluded.tx, audit_id = excluded.audit_id
                         """, connection, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<long[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = ids });
            insert.Parameters.Add(new NpgsqlParameter<long[]>("seqs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = seqs });
            insert.Parameters.Add(new NpgsqlParameter<byte[][]>("prevs", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = prevs });
            insert.Parameters.Add(new NpgsqlParameter<byte[][]>("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = hashes });
            insert.Parameters.AddWithValue("s", seq);
            insert.Parameters.AddWithValue("h", previous);
            insert.Parameters.AddWithValue("tx", lastTx);
            insert.Parameters.AddWithValue("id", ids[^1]);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        logger.LogDebug("Sealed {Count} audit rows through seq {Seq}", rows.Count, seq);
        return (rows.Count, horizon, next);
    }

    /// <summary>Recomputes the whole chain and reports the first seq where it breaks.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken ct)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        // One snapshot for the rows and the head, so a seal committing meanwhile cannot look like tampering.
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        long expected = 1, checkedRows = 0;
        var previous = AuditChain.Genesis;
        while (true)
        {
            var page = 0;
            await using var read = new NpgsqlCommand(
                $"""
                SELECT {RowColumns}, s.seq, s.prev_hash, s.hash, a.id IS NULL
                FROM audit_seals s LEFT JOIN audit_log a ON a.id = s.audit_id
                WHERE s.seq >= @from ORDER BY s.seq LIMIT 5000
                """, connection, tx);
            read.Parameters.AddWithValue("from", expected);
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    page++;
                    var seq = reader.GetInt64(12);
                    if (seq != expected || reader.GetBoolean(15))
                    {
                        return Broken(expected, "missing_row", checkedRows);
                    }

                    var row = ReadContent(reader);
                    var storedPrev = reader.GetFieldValue<byte[]>(13);
                    var storedHash = reader.GetFieldValue<byte[]>(14);

                    if (!storedPrev.AsSpan().SequenceEqual(previous))
                    {
                        return Broken(seq, "prev_hash_mismatch", checkedRows);
                    }

                    var hash = AuditChain.Hash(previous, row);
                    if (!storedHash.AsSpan().SequenceEqual(hash))
                    {
                        return Broken(seq, "hash_mismatch", checkedRows);
                    }

                    previous = hash;
                    expected++;
                    checkedRows++;
                }
            }

            if (page < 5000)
            {
                break;
            }
        }

        long headSeq = 0;
        byte[]? headHash = null;
        await using (var head = new NpgsqlCommand("SELECT seq, hash FROM audit_chain_head", connection, tx))
        await using (var reader = await head.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                headSeq = reader.GetInt64(0);
                headHash = reader.GetFieldValue<byte[]>(1);
            }
        }

        if (headSeq != expected - 1 || (headSeq > 0 && !headHash.AsSpan().SequenceEqual(previous)))
        {
            return Broken(headSeq >= expected ? expected : headSeq + 1, "head_mismatch", checkedRows);
        }

        await using var unsealed = new NpgsqlCommand(
            "SELECT count(*) FROM audit_log a WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.audit_id = a.id)", connection, tx);
        var pending = (long)(await unsealed.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return new AuditVerification { Intact = true, Checked = checkedRows, VerifiedThroughSeq = expected - 1, Unsealed = pending };

        AuditVerification Broken(long at, string problem, long count) => new()
        {
            Intact = false,
            Checked = count,
            VerifiedThroughSeq = at - 1,
            FirstBrokenSeq = at,
            Problem = problem,
        };
    }

    /// <summary>Newest first, filtered; keyset paging on id.</summary>
    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct)
    {
        var limit = Math.Clamp(query.Limit, 1, 500);
        var sql = new StringBuilder($"SELECT {RowColumns}, s.seq, s.hash FROM audit_log LEFT JOIN audit_seals s ON s.audit_id = audit_log.id WHERE true");
        await using var command = _db.CreateCommand();
        void Filter(string clause, string name, object? value, NpgsqlDbType type)
        {
            if (value is null)
            {
                return;
            }

            sql.Append(" AND ").Append(clause);
            command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value });
        }

        Filter("entity_type = @et", "et", query.EntityType, NpgsqlDbType.Text);
        Filter("entity_id = @ei", "ei", query.EntityId, NpgsqlDbType.Text);
        Filter("actor_key_id = @ak", "ak", query.ActorKeyId, NpgsqlDbType.Text);
        Filter("action = @ac", "ac", query.Action, NpgsqlDbType.Text);
        Filter("at >= @from", "from", query.From?.UtcDateTime, NpgsqlDbType.TimestampTz);
        Filter("at < @to", "to", query.To?.UtcDateTime, NpgsqlDbType.TimestampTz);
        Filter("id < @before", "before", query.BeforeId, NpgsqlDbType.Bigint);
        sql.Append(" ORDER BY id DESC LIMIT ").Append(limit + 1);
        command.CommandText = sql.ToString();

        var items = new List<AuditRecord>(limit + 1);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var row = ReadContent(reader);
                items.Add(new AuditRecord
                {
                    Id = row.Id,
                    At = new DateTimeOffset(DateTime.SpecifyKind(row.At, DateTimeKind.Utc)),
                    Entry = new AuditEntry
                    {
                        Action = row.Action,
                        EntityType = row.EntityType,
                        EntityId = row.EntityId,
                        ActorKeyId = row.ActorKeyId,
                        ActorRole = row.ActorRole,
                        ReasonCode = row.ReasonCode,
                        Note = row.Note,
                        Documents = row.Documents,
                        Before = row.Before,
                        After = row.After,
                    },
                    Seq = reader.IsDBNull(12) ? null : reader.GetInt64(12),
                    Hash = reader.IsDBNull(13) ? null : Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(13)),
                });
            }
        }

        var more = items.Count > limit;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }

        return new AuditPage { Items = items.ToArray(), NextBeforeId = more ? items[^1].Id : null };
    }

    private static AuditRowContent ReadContent(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetFieldValue<DateTime>(1),
        Text(reader, 2), Text(reader, 3), reader.GetString(4), reader.GetString(5), reader.GetString(6),
        Text(reader, 7), Text(reader, 8), Text(reader, 9), Text(reader, 10), Text(reader, 11));

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
