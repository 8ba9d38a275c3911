using System.Security.Cryptography;
using System.Text;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Grains.Audit;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// API keys, stored as SHA-256 hashes. Keys carry 160 random bits, so a fast hash is enough. Every
/// change writes its audit row in the same transaction.
/// </summary>
public sealed class ApiKeyStore(Database database, AuditLog audit)
{
    private const string InfoColumns = "id, name, role, dealer_id, created_at, created_by, revoked_at, revoked_by, rotated_at, last_used_at";
    private readonly NpgsqlDataSource _db = database.DataSource;

    public static string NewKey() => "cg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The key's principal when the hash is its current one, or its previous one within the rotation grace.</summary>
    public async Task<ApiKeyPrincipal?> ResolveAsync(string keyHash)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT id, name, role, dealer_id FROM api_keys
            WHERE revoked_at IS NULL AND (key_hash = @h OR (previous_key_hash = @h AND previous_valid_until > now()))
            LIMIT 1
            """);
        command.Parameters.AddWithValue("h", keyHash);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        return new ApiKeyPrincipal
        {
            Id = reader.GetString(0),
            Name = reader.GetString(1),
            Role = reader.GetString(2),
            DealerId = reader.IsDBNull(3) ? null : reader.GetString(3),
        };
    }

    public async Task InsertAsync(string id, string name, string role, string? dealerId, string keyHash, Actor actor)
    {
        await using var batch = _db.CreateBatch();
        var insert = new NpgsqlBatchCommand(
            $"INSERT INTO api_keys (id, name, role, dealer_id, key_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {InfoColumns}");
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = role });
        insert.Parameters.Add(new NpgsqlParameter<string?> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = dealerId });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = keyHash });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor.KeyId });
        batch.BatchCommands.Add(insert);
        var info = new ApiKeyInfo { Id = id, Name = name, Role = role, DealerId = dealerId, CreatedBy = actor.KeyId };
        batch.BatchCommands.Add(AuditSql.Command(AuditEntry.For(actor, AuditNames.Created, AuditNames.ApiKey, id) with { After = AuditJson.Of(info) }));
        await batch.ExecuteNonQueryAsync();
        audit.RequestSeal();
    }

    public async Task<ApiKeyInfo[]> ListAsync(bool includeRevoked, int limit, string? afterId)
    {
        await using var command = _db.CreateCommand(
            $"""
             SELECT {InfoColumns} FROM api_keys
             WHERE (@all OR revoked_at IS NULL) AND (@after::text IS NULL OR id > @after)
             ORDER BY id LIMIT @limit
             """);
        command.Parameters.AddWithValue("all", includeRevoked);
        command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)afterId ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", Math.Clamp(limit, 1, 500));
        var keys = new List<ApiKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            keys.Add(ReadInfo(reader));
        }

        return keys.ToArray();
    }

    public Task<ApiKeyChange> RevokeAsync(string keyId, Actor actor) => ChangeAsync(keyId, async (connection, tx, before) =>
    {
        if (before.Role == Roles.Admin)
        {
            // Lock every active admin key, so two admins revoking each other concurrently cannot both win.
            await using var admins = new NpgsqlCommand(
                "SELECT count(*) FROM (SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL FOR UPDATE) a", connection, tx);
            if ((long)(await admins.ExecuteScalarAsync())! <= 1)
            {
                return (new ApiKeyChange { Status = ApiKeyChangeStatus.LastAdminKey, Key = before }, null);
            }
        }

        await using var update = new NpgsqlCommand(
            $"UPDATE api_keys SET revoked_at = now(), revoked_by = @by WHERE id = @id RETURNING {InfoColumns}", connection, tx);
        update.Parameters.AddWithValue("by", actor.KeyId);
        update.Parameters.AddWithValue("id", keyId);
        var after = await ReadOneAsync(update);
        return (new ApiKeyChange { Status = ApiKeyChangeStatus.Done, Key = after },
            AuditEntry.For(actor, AuditNames.Revoked, AuditNames.ApiKey, keyId) with { Before = AuditJson.Of(before), After = AuditJson.Of(after) });
    });

    public Task<ApiKeyChange> RotateAsync(string keyId, TimeSpan grace, Actor actor) => ChangeAsync(keyId, async (connection, tx, before) =>
    {
        var key = NewKey();
        await using var update = new NpgsqlCommand(
            $"""
             UPDATE api_keys SET previous_key_hash = key_hash, previous_valid_until = now() + @grace,
                                 key_hash = @h, rotated_at = now()
             WHERE id = @id RETURNING {InfoColumns}
             """, connection, tx);
        update.Parameters.Add(new NpgsqlParameter("grace", NpgsqlDbType.Interval) { Value = grace < TimeSpan.Zero ? TimeSpan.Zero : grace });
        update.Parameters.AddWithValue("h", Hash(key));
        update.Parameters.AddWithValue("id", keyId);
        var after = await ReadOneAsync(update);
        return (new ApiKeyChange { Status = ApiKeyChangeStatus.Done, Key = after, NewKey = key },
            AuditEntry.For(actor, AuditNames.Rotated, AuditNames.ApiKey, keyId) with
            {
                Note = grace > TimeSpan.Zero ? $"previous secret valid for {grace.TotalSeconds:0} s" : null,
                Before = AuditJson.Of(before),
                After = AuditJson.Of(after),
            });
    });

    /// <summary>
    /// One change to an active key, in one transaction: the row locked, the change made, its audit row
    /// written, committed. An unknown or revoked key is answered without a change.
    /// </summary>
    private async Task<ApiKeyChange> ChangeAsync(string keyId,
        Func<NpgsqlConnection, NpgsqlTransaction, ApiKeyInfo, Task<(ApiKeyChange Result, AuditEntry? Entry)>> change)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using var select = new NpgsqlCommand($"SELECT {InfoColumns} FROM api_keys WHERE id = @id FOR UPDATE", connection, tx);
        select.Parameters.AddWithValue("id", keyId);
        var before = await ReadOneAsync(select);
        if (before is null)
        {
            return new() { Status = ApiKeyChangeStatus.NotFound };
        }

        if (before.RevokedAt is not null)
        {
            return new() { Status = ApiKeyChangeStatus.Revoked, Key = before };
        }

        var (result, entry) = await change(connection, tx, before);
        if (entry is null)
        {
            return result;
        }

        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            AuditSql.AddTo(batch, entry);
            await batch.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
        audit.RequestSeal();
        return result;
    }

    private static async Task<ApiKeyInfo?> ReadOneAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ReadInfo(reader) : null;
    }

    /// <summary>Records use: one statement for many keys, and a key already marked within the minute is not rewritten.</summary>
    public async Task TouchAsync(string[] keyIds)
    {
        await using var command = _db.CreateCommand(
            """
            UPDATE api_keys SET last_used_at = now()
            WHERE id = ANY(@ids) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keyIds });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Creates the bootstrap admin key unless an admin key exists already. True when it created one.</summary>
    public async Task<bool> EnsureBootstrapAdminAsync(string key)
    {
        await using var command = _db.CreateCommand(
            """
            WITH created AS (
                INSERT INTO api_keys (id, name, role, key_hash, created_by)
                SELECT 'K-bootstrap', 'bootstrap admin', 'admin', @h, 'bootstrap'
                WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)
                ON CONFLICT DO NOTHING
                RETURNING id, name, role
            )
            INSERT INTO audit_log (actor_key_id, actor_role, action, entity_type, entity_id, after)
            SELECT 'bootstrap', 'admin', @action, @entity, id, jsonb_build_object('id', id, 'name', name, 'role', role)
            FROM created
            """);
        command.Parameters.AddWithValue("h", Hash(key));
        command.Parameters.AddWithValue("action", AuditNames.Created);
        command.Parameters.AddWithValue("entity", AuditNames.ApiKey);
        var created = await command.ExecuteNonQueryAsync() == 1;
        audit.RequestSeal();
        return created;
    }

    private static ApiKeyInfo ReadInfo(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Role = r.GetString(2),
        DealerId = r.IsDBNull(3) ? null : r.GetString(3),
        CreatedAt = At(r, 4)!.Value,
        CreatedBy = r.IsDBNull(5) ? null : r.GetString(5),
        RevokedAt = At(r, 6),
        RevokedBy = r.IsDBNull(7) ? null : r.GetString(7),
        RotatedAt = At(r, 8),
        LastUsedAt = At(r, 9),
    };

    private static DateTimeOffset? At(NpgsqlDataReader r, int i) =>
        r.IsDBNull(i) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetFieldValue<DateTime>(i), DateTimeKind.Utc));
}
