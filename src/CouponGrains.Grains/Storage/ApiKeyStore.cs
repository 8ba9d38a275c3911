using System.Security.Cryptography;
using System.Text;
using CouponGrains.Contracts.Access;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>API keys, stored as SHA-256 hashes. Keys carry 160 random bits, so a fast hash is enough.</summary>
public sealed class ApiKeyStore(Database database)
{
    private readonly NpgsqlDataSource _db = database.DataSource;

    public static string NewKey() => "cg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public async Task<ApiKeyPrincipal?> ResolveAsync(string keyHash)
    {
        await using var command = _db.CreateCommand(
            "SELECT id, name, role, dealer_id FROM api_keys WHERE key_hash = @h AND revoked_at IS NULL");
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

    public async Task InsertAsync(string id, string name, string role, string? dealerId, string keyHash, string createdBy)
    {
        await using var command = _db.CreateCommand(
            "INSERT INTO api_keys (id, name, role, dealer_id, key_hash, created_by) VALUES (@id, @n, @r, @d, @h, @by)");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("n", name);
        command.Parameters.AddWithValue("r", role);
        command.Parameters.Add(new NpgsqlParameter<string?>("d", NpgsqlDbType.Text) { TypedValue = dealerId });
        command.Parameters.AddWithValue("h", keyHash);
        command.Parameters.AddWithValue("by", createdBy);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Creates the bootstrap admin key unless an admin key exists already. True when it created one.</summary>
    public async Task<bool> EnsureBootstrapAdminAsync(string key)
    {
        await using var command = _db.CreateCommand(
            """
            INSERT INTO api_keys (id, name, role, key_hash, created_by)
            SELECT 'K-bootstrap', 'bootstrap admin', 'admin', @h, 'bootstrap'
            WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)
            ON CONFLICT DO NOTHING
            """);
        command.Parameters.AddWithValue("h", Hash(key));
        return await command.ExecuteNonQueryAsync() == 1;
    }
}
