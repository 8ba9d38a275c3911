using CouponGrains.Contracts.Access;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>A coupon row: what a coupon grain loads when it activates.</summary>
public sealed record CouponRow(string Code, string CampaignId, string? DealerId, int? MaxUses, DateTimeOffset? ExpiresAt);

/// <summary>Issued coupons live as rows, so a million of them cost nothing until they are used.</summary>
public sealed class CouponStore(Database database)
{
    private readonly NpgsqlDataSource _db = database.DataSource;

    /// <summary>Inserts the codes that are free and returns the ones that were taken already.</summary>
    public async Task<IReadOnlyList<string>> InsertAsync(IReadOnlyList<string> codes, string campaignId, string? dealerId,
        int? maxUses, DateTimeOffset? expiresAt, bool named, Actor actor)
    {
        await using var command = _db.CreateCommand(
            """
            INSERT INTO coupons (code, campaign_id, dealer_id, max_uses, expires_at, named, created_by)
            SELECT c, @campaign, @dealer, @maxUses, @expires, @named, @actor FROM unnest(@codes) AS c
            ON CONFLICT (code) DO NOTHING
            RETURNING code
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("codes", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = codes.ToArray() });
        command.Parameters.AddWithValue("campaign", campaignId);
        command.Parameters.Add(new NpgsqlParameter<string?>("dealer", NpgsqlDbType.Text) { TypedValue = dealerId });
        command.Parameters.Add(new NpgsqlParameter("maxUses", NpgsqlDbType.Integer) { Value = (object?)maxUses ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("expires", NpgsqlDbType.TimestampTz) { Value = (object?)expiresAt?.UtcDateTime ?? DBNull.Value });
        command.Parameters.AddWithValue("named", named);
        command.Parameters.AddWithValue("actor", actor.KeyId);
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            inserted.Add(reader.GetString(0));
        }

        return codes.Where(c => !inserted.Contains(c)).ToList();
    }

    public async Task<CouponRow?> FindAsync(string code)
    {
        await using var command = _db.CreateCommand(
            "SELECT code, campaign_id, dealer_id, max_uses, expires_at FROM coupons WHERE code = @code");
        command.Parameters.AddWithValue("code", code);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        return new CouponRow(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetInt32(3),
            reader.IsDBNull(4) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(4), TimeSpan.Zero));
    }

    /// <summary>
    /// Codes an order of <paramref name="dealerId"/> might use, one per campaign: the dealer's own unexpired
    /// coupons first, then public named codes. Bulk-generated public codes are left out (a million of them
    /// say nothing about which campaigns exist).
    /// </summary>
    public async Task<string[]> QualifyingCodesAsync(string dealerId, int limit)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT code FROM (
                SELECT DISTINCT ON (campaign_id) code, campaign_id, dealer_id IS NULL AS public
                FROM coupons
                WHERE (dealer_id = @dealer OR (dealer_id IS NULL AND named)) AND (expires_at IS NULL OR expires_at > now())
                ORDER BY campaign_id, dealer_id IS NULL, created_at DESC) AS c
            ORDER BY public, campaign_id
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("dealer", dealerId);
        command.Parameters.AddWithValue("limit", limit);
        var codes = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            codes.Add(reader.GetString(0));
        }

        return codes.ToArray();
    }
}
