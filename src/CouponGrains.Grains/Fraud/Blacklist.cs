using System.Collections.Frozen;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Fraud;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Fraud;

/// <summary>
/// The blacklist, blocking at redemption time. Checks are in memory (a frozen snapshot per silo, reloaded
/// from PostgreSQL every <see cref="PipelineOptions.BlacklistRefreshSeconds"/>); a change made through this
/// silo applies to it at once, other silos see it within the refresh interval. Expiry is checked on every
/// call, so an entry stops blocking the moment it expires.
/// </summary>
public sealed class Blacklist(Database database, AuditLog audit, TimeProvider clock, IOptions<PipelineOptions> options,
    ILogger<Blacklist> logger) : BackgroundService
{
    private readonly NpgsqlDataSource _db = database.DataSource;
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>
    /// Null when the redemption may proceed; otherwise a <see cref="RejectionCode.Blacklisted"/> rejection
    /// naming what is blacklisted. Allocation-free on the pass path.
    /// </summary>
    public ValueTask<Rejection?> CheckAsync(string dealerId, string? customerId, string code)
    {
        var snapshot = _snapshot;
        if (snapshot.IsEmpty)
        {
            return ValueTask.FromResult<Rejection?>(null);
        }

        var now = clock.GetUtcNow();
        if (snapshot.Blocks(BlacklistKinds.Dealer, dealerId, now))
        {
            return ValueTask.FromResult<Rejection?>(new Rejection(RejectionCode.Blacklisted, "This dealer is blacklisted."));
        }

        if (customerId is not null && snapshot.Blocks(BlacklistKinds.Customer, customerId, now))
        {
            return ValueTask.FromResult<Rejection?>(new Rejection(RejectionCode.Blacklisted, "This customer is blacklisted."));
        }

        return ValueTask.FromResult<Rejection?>(snapshot.Blocks(BlacklistKinds.Code, code, now)
            ? new Rejection(RejectionCode.Blacklisted, "This coupon code is blacklisted.")
            : null);
    }

    public async Task<BlacklistEntry> AddAsync(string kind, string value, string reason, DateTimeOffset? expiresAt, Actor actor)
    {
        var entry = new BlacklistEntry
        {
            Id = "BL-" + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant(),
            Kind = kind,
            Value = value,
            Reason = reason,
            ExpiresAt = expiresAt,
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = actor.KeyId,
        };
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(
            """
            INSERT INTO blacklist (id, kind, value, reason, expires_at, created_at, created_by)
            VALUES (@id, @kind, @value, @reason, @expires, @at, @by)
            """, connection, tx))
        {
            command.Parameters.AddWithValue("id", entry.Id);
            command.Parameters.AddWithValue("kind", kind);
            command.Parameters.AddWithValue("value", value);
            command.Parameters.AddWithValue("reason", reason);
            command.Parameters.Add(new NpgsqlParameter<DateTime?>("expires", NpgsqlDbType.TimestampTz) { TypedValue = expiresAt?.UtcDateTime });
            command.Parameters.AddWithValue("at", entry.CreatedAt.UtcDateTime);
            command.Parameters.AddWithValue("by", actor.KeyId);
            await command.ExecuteNonQueryAsync();
        }

        await PipelineAudit.AppendAsync(connection, tx, audit, AuditEntry.For(actor, PipelineAuditNames.Added, PipelineAuditNames.Blacklist, entry.Id)
            with { ReasonCode = kind, Note = reason, After = AuditJson.Of(entry) });
        await tx.CommitAsync();
        await ReloadAsync(CancellationToken.None);
        return entry;
    }

    public async Task<bool> RemoveAsync(string id, Actor actor)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        BlacklistEntry removed;
        await using (var command = new NpgsqlCommand(
            $"UPDATE blacklist SET removed_at = now(), removed_by = @by WHERE id = @id AND removed_at IS NULL RETURNING {EntryColumns}",
            connection, tx))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("by", actor.KeyId);
            await using var reader = await command.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                return false;
            }

            removed = ReadEntry(reader);
        }

        // Before is the entry as it stood; after, nothing: it no longer blocks anyone.
        await PipelineAudit.AppendAsync(connection, tx, audit,
            AuditEntry.For(actor, PipelineAuditNames.Removed, PipelineAuditNames.Blacklist, id) with { Before = AuditJson.Of(removed) });
        await tx.CommitAsync();
        await ReloadAsync(CancellationToken.None);
        return true;
    }

    public async Task<BlacklistEntry[]> ListAsync(string? kind)
    {
        await using var command = _db.CreateCommand(
            $"""
            SELECT {EntryColumns} FROM blacklist
            WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND (@kind::text IS NULL OR kind = @kind)
            ORDER BY created_at, id
            """);
        command.Parameters.Add(SqlParameters.Text("kind", kind));
        var entries = new List<BlacklistEntry>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            entries.Add(ReadEntry(reader));
        }

        return entries.ToArray();
    }

    private const string EntryColumns = "id, kind, value, reason, expires_at, created_at, created_by";

    private static BlacklistEntry ReadEntry(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Kind = reader.GetString(1),
        Value = reader.GetString(2),
        Reason = reader.GetString(3),
        ExpiresAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(5),
        CreatedBy = reader.IsDBNull(6) ? null : reader.GetString(6),
    };

    /// <summary>Reloads the snapshot from PostgreSQL now.</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        await _reload.WaitAsync(ct);
        try
        {
            var entries = new Dictionary<(string, string), DateTimeOffset?>();
            await using var command = _db.CreateCommand(
                "SELECT kind, value, expires_at FROM blacklist WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at > now())");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = (reader.GetString(0), reader.GetString(1));
                DateTimeOffset? expires = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
                // Several entries for one value: the one that blocks longest wins.
                entries[key] = entries.TryGetValue(key, out var other) && (other is null || (expires is not null && other > expires)) ? other : expires;
            }

            _snapshot = new Snapshot(entries.ToFrozenDictionary());
        }
        finally
        {
            _reload.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.Value.BlacklistRefreshSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Keep the last snapshot: a database hiccup must not open the blacklist.
                logger.LogWarning(e, "Blacklist refresh failed; keeping the previous snapshot");
            }

            await Task.Delay(interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private sealed class Snapshot(FrozenDictionary<(string Kind, string Value), DateTimeOffset?> entries)
    {
        public static readonly Snapshot Empty = new(FrozenDictionary<(string, string), DateTimeOffset?>.Empty);

        public bool IsEmpty => entries.Count == 0;

        public bool Blocks(string kind, string value, DateTimeOffset now) =>
            entries.TryGetValue((kind, value), out var expires) && (expires is null || expires > now);
    }
}
