using CouponGrains.Contracts.Audit;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Audit;

/// <summary>
/// The SQL that writes audit rows, for callers that must write them inside their own transaction or
/// batch (the redemption ledger, the key and approval stores): the row then commits or rolls back with
/// the change it describes. Rows are inserted unsealed; <see cref="AuditLog"/>'s sealer chains them.
/// Parameters are positional, so a command composes into any <see cref="NpgsqlBatch"/>.
/// </summary>
public static class AuditSql
{
    /// <summary>One row: $1 actor key id, $2 actor role, $3 action, $4 entity type, $5 entity id,
    /// $6 reason code, $7 note, $8 documents, $9 before, $10 after (the last three JSON text).</summary>
    public const string Insert =
        """
        INSERT INTO audit_log (actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents, before, after)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb)
        """;

    /// <summary>Many rows in one statement: the same ten columns as parallel text arrays.</summary>
    public const string InsertMany =
        """
        INSERT INTO audit_log (actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents, before, after)
        SELECT k, r, a, t, e, c, n, d::jsonb, b::jsonb, f::jsonb
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
             WITH ORDINALITY AS u(k, r, a, t, e, c, n, d, b, f, o)
        ORDER BY o
        """;

    /// <summary>
    /// One row selected into a change's own statement, so that it is written only with the change: follow it with
    /// <c>FROM</c> the change's <c>RETURNING</c> CTE (and any condition), and give the command
    /// <see cref="AddSelectParameters"/>. For statements with named parameters, which cannot take positional ones.
    /// </summary>
    public const string InsertSelect =
        """
        INSERT INTO audit_log (actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents, before, after)
        SELECT @audit_1, @audit_2, @audit_3, @audit_4, @audit_5, @audit_6, @audit_7, @audit_8::jsonb, @audit_9::jsonb, @audit_10::jsonb
        """;

    /// <summary>The parameters of <see cref="InsertSelect"/> for <paramref name="entry"/>.</summary>
    public static void AddSelectParameters(NpgsqlCommand command, AuditEntry entry)
    {
        var n = 0;
        foreach (var value in Values(entry))
        {
            command.Parameters.Add(new NpgsqlParameter<string?>($"audit_{++n}", NpgsqlDbType.Text) { TypedValue = value });
        }
    }

    /// <summary>A batch command inserting <paramref name="entry"/>: add it to the batch of the change it describes.</summary>
    public static NpgsqlBatchCommand Command(AuditEntry entry)
    {
        var command = new NpgsqlBatchCommand(Insert);
        foreach (var value in Values(entry))
        {
            command.Parameters.Add(new NpgsqlParameter<string?> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value });
        }

        return command;
    }

    /// <summary>One batch command inserting all of <paramref name="entries"/> (in order), for group commits.</summary>
    public static NpgsqlBatchCommand CommandForMany(IReadOnlyList<AuditEntry> entries)
    {
        var command = new NpgsqlBatchCommand(InsertMany);
        var columns = new string?[10][];
        for (var c = 0; c < columns.Length; c++)
        {
            columns[c] = new string?[entries.Count];
        }

        for (var i = 0; i < entries.Count; i++)
        {
            var c = 0;
            foreach (var value in Values(entries[i]))
            {
                columns[c++][i] = value;
            }
        }

        foreach (var column in columns)
        {
            command.Parameters.Add(new NpgsqlParameter<string?[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = column });
        }

        return command;
    }

    /// <summary>Adds the insert of <paramref name="entry"/> to <paramref name="batch"/>.</summary>
    public static void AddTo(NpgsqlBatch batch, AuditEntry entry) => batch.BatchCommands.Add(Command(entry));

    private static IEnumerable<string?> Values(AuditEntry e)
    {
        yield return e.ActorKeyId;
        yield return e.ActorRole;
        yield return e.Action;
        yield return e.EntityType;
        yield return e.EntityId;
        yield return e.ReasonCode;
        yield return e.Note;
        yield return e.Documents;
        yield return e.Before;
        yield return e.After;
    }
}
