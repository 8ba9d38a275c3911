using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.Contracts.Audit;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Approvals;

/// <summary>
/// Order-time exception approvals in PostgreSQL. Every change is one transaction that locks the row,
/// checks, updates and writes its audit row, so a decision or a consumption happens once whatever
/// the concurrency, and survives a restart. Time comes from <see cref="TimeProvider"/>.
/// </summary>
public sealed class ApprovalStore(Database database, TimeProvider time, IOptions<ApprovalOptions> options, AuditLog audit)
{
    private const string Columns =
        """
        id, status, dealer_id, order_hash, amount, currency, campaign_id, code, reason, note, requested_by, requested_at,
        expires_at, decided_by, decided_role, decided_at, decision_code, decision_note, consumed_at
        """;

    private readonly NpgsqlDataSource _db = database.DataSource;

    public ApprovalOptions Options => options.Value;

    /// <summary>Raises a request; it is pending until decided and lapses at its expiry.</summary>
    public async Task<ApprovalView> CreateAsync(ApprovalRequest request, Actor actor, CancellationToken ct = default)
    {
        if (!ApprovalReasons.IsKnown(request.Reason) || request.Amount < 0 || string.IsNullOrEmpty(request.DealerId)
            || string.IsNullOrEmpty(request.OrderHash))
        {
            throw new ArgumentException("An approval request needs a dealer, an order hash, an amount ≥ 0 and a known reason.", nameof(request));
        }

        var now = Now();
        var latest = now.AddMinutes(options.Value.RequestExpiryMinutes);
        var expires = request.ExpiresAt is { } asked && asked < latest ? asked : latest;
        var view = new ApprovalView
        {
            Id = "A-" + Guid.CreateVersion7().ToString("N")[..20],
            Status = ApprovalStatuses.Pending,
            DealerId = request.DealerId,
            OrderHash = request.OrderHash,
            Amount = request.Amount,
            Currency = request.Currency,
            CampaignId = request.CampaignId,
            Code = request.Code,
            Reason = request.Reason,
            Note = request.Note,
            RequestedBy = actor.KeyId,
            RequestedAt = now,
            ExpiresAt = expires,
        };

        await using var batch = _db.CreateBatch();
        var insert = new NpgsqlBatchCommand(
            """
            INSERT INTO approvals (id, status, dealer_id, order_hash, amount, currency, campaign_id, code, reason, note,
                                   requested_by, requested_at, expires_at)
            VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """);
        insert.Parameters.Add(Text(view.Id));
        insert.Parameters.Add(Text(view.DealerId));
        insert.Parameters.Add(Text(view.OrderHash));
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = view.Amount });
        insert.Parameters.Add(Text(view.Currency));
        insert.Parameters.Add(Text(view.CampaignId));
        insert.Parameters.Add(Text(view.Code));
        insert.Parameters.Add(Text(view.Reason));
        insert.Parameters.Add(Text(view.Note));
        insert.Parameters.Add(Text(view.RequestedBy));
        insert.Parameters.Add(Time(now));
        insert.Parameters.Add(Time(expires));
        batch.BatchCommands.Add(insert);
        // A batch without an explicit transaction runs in one implicit transaction: both rows or neither.
        batch.BatchCommands.Add(AuditSql.Command(AuditEntry.For(actor, AuditNames.Requested, AuditNames.Approval, view.Id) with
        {
            ReasonCode = view.Reason,
            Note = view.Note,
            After = AuditJson.Of(view),
        }));
        await batch.ExecuteNonQueryAsync(ct);
        audit.RequestSeal();
        return view;
    }

    public async Task<ApprovalView?> GetAsync(string approvalId, CancellationToken ct = default)
    {
        await using var command = _db.CreateCommand($"SELECT {Columns} FROM approvals WHERE id = @id");
        command.Parameters.AddWithValue("id", approvalId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, Now()) : null;
    }

    /// <summary>Oldest first, filtered by status (as <see cref="ApprovalStatuses"/>, expiry derived) and dealer.</summary>
    public async Task<ApprovalView[]> ListAsync(string? status, string? dealerId, int limit, string? afterId, CancellationToken ct = default)
    {
        var where = status switch
        {
            ApprovalStatuses.Pending => "status = 'pending' AND expires_at > @now",
            ApprovalStatuses.Approved => "status = 'approved' AND expires_at > @now",
            ApprovalStatuses.Expired => "status IN ('pending', 'approved') AND expires_at <= @now",
            ApprovalStatuses.Rejected => "status = 'rejected'",
            ApprovalStatuses.Consumed => "status = 'consumed'",
            _ => "true",
        };
        await using var command = _db.CreateCommand(
            $"""
             SELECT {Columns} FROM approvals
             WHERE {where} AND (@dealer::text IS NULL OR dealer_id = @dealer) AND (@after::text IS NULL OR id > @after)
             ORDER BY id LIMIT @limit
             """);
        var now = Now();
        command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = now.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter("dealer", NpgsqlDbType.Text) { Value = (object?)dealerId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)afterId ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", Math.Clamp(limit, 1, 500));
        var items = new List<ApprovalView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(Read(reader, now));
        }

        return items.ToArray();
    }

    /// <summary>
    /// Approves or rejects a pending request. Anyone who may decide can reject; approving is bounded by
    /// role (<see cref="ApprovalOptions.ApproverMaxAmount"/>, <see cref="ApprovalOptions.FinanceMaxAmount"/>,
    /// admins unlimited), and nobody decides a request they raised.
    /// </summary>
    public async Task<ApprovalDecisionResult> DecideAsync(string approvalId, ApprovalDecision decision, string? reasonCode, string? note,
        Actor actor, CancellationToken ct = default)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = Now();
        var before = await LockAsync(connection, tx, approvalId, now, ct);
        if (before is null)
        {
            return new() { Status = ApprovalDecisionStatus.NotFound };
        }

        if (before.Status != ApprovalStatuses.Pending)
        {
            return new()
            {
                Status = before.Status == ApprovalStatuses.Expired ? ApprovalDecisionStatus.Expired : ApprovalDecisionStatus.AlreadyDecided,
                Approval = before,
            };
        }

        if (string.Equals(before.RequestedBy, actor.KeyId, StringComparison.Ordinal))
        {
            return new() { Status = ApprovalDecisionStatus.OwnRequest, Approval = before };
        }

        if (decision == ApprovalDecision.Approve && LimitOf(actor.Role) is { } limit && before.Amount > limit)
        {
            return new() { Status = ApprovalDecisionStatus.AboveLimit, Approval = before, Limit = limit };
        }

        var after = before with
        {
            Status = decision == ApprovalDecision.Approve ? ApprovalStatuses.Approved : ApprovalStatuses.Rejected,
            DecidedBy = actor.KeyId,
            DecidedRole = actor.Role,
            DecidedAt = now,
            DecisionCode = reasonCode,
            DecisionNote = note,
        };
        await using (var update = new NpgsqlCommand(
                         """
                         UPDATE approvals SET status = @s, decided_by = @by, decided_role = @role, decided_at = @at,
                                              decision_code = @code, decision_note = @note
                         WHERE id = @id
                         """, connection, tx))
        {
            update.Parameters.AddWithValue("s", after.Status);
            update.Parameters.AddWithValue("by", actor.KeyId);
            update.Parameters.AddWithValue("role", actor.Role);
            update.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = now.UtcDateTime });
            update.Parameters.Add(new NpgsqlParameter("code", NpgsqlDbType.Text) { Value = (object?)reasonCode ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("note", NpgsqlDbType.Text) { Value = (object?)note ?? DBNull.Value });
            update.Parameters.AddWithValue("id", approvalId);
            await update.ExecuteNonQueryAsync(ct);
        }

        await AppendAsync(connection, tx, AuditEntry.For(actor, after.Status, AuditNames.Approval, approvalId) with
        {
            ReasonCode = reasonCode,
            Note = note,
            Before = AuditJson.Of(before),
            After = AuditJson.Of(after),
        }, ct);
        await tx.CommitAsync(ct);
        audit.RequestSeal();
        return new() { Status = ApprovalDecisionStatus.Done, Approval = after };
    }

    /// <summary>
    /// Uses an approved request once: only before its expiry, and only for the dealer, order hash and
    /// amount it was raised for. The row lock makes concurrent consumers of one id meet one success.
    /// </summary>
    public async Task<ApprovalConsumeResult> ConsumeAsync(string approvalId, string dealerId, string orderHash, long amount,
        CancellationToken ct = default)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = Now();
        var before = await LockAsync(connection, tx, approvalId, now, ct);
        if (before is null)
        {
            return new() { Status = ApprovalConsumeStatus.NotFound };
        }

        if (!string.Equals(before.DealerId, dealerId, StringComparison.Ordinal))
        {
            // Another dealer's approval id reads as an unknown one: no hint that it exists.
            return new() { Status = ApprovalConsumeStatus.NotFound };
        }

        var status = before.Status switch
        {
            ApprovalStatuses.Consumed => ApprovalConsumeStatus.AlreadyUsed,
            ApprovalStatuses.Expired => ApprovalConsumeStatus.Expired,
            ApprovalStatuses.Approved when before.OrderHash != orderHash || before.Amount != amount => ApprovalConsumeStatus.Mismatch,
            ApprovalStatuses.Approved => ApprovalConsumeStatus.Consumed,
            _ => ApprovalConsumeStatus.NotApproved,
        };
        if (status != ApprovalConsumeStatus.Consumed)
        {
            return new() { Status = status, Approval = before };
        }

        var after = before with { Status = ApprovalStatuses.Consumed, ConsumedAt = now };
        await using (var update = new NpgsqlCommand(
                         "UPDATE approvals SET status = 'consumed', consumed_at = @at WHERE id = @id AND status = 'approved'", connection, tx))
        {
            update.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = now.UtcDateTime });
            update.Parameters.AddWithValue("id", approvalId);
            await update.ExecuteNonQueryAsync(ct);
        }

        await AppendAsync(connection, tx, new AuditEntry
        {
            Action = AuditNames.Consumed,
            EntityType = AuditNames.Approval,
            EntityId = approvalId,
            Before = AuditJson.Of(before),
            After = AuditJson.Of(after),
        }, ct);
        await tx.CommitAsync(ct);
        audit.RequestSeal();
        return new() { Status = ApprovalConsumeStatus.Consumed, Approval = after };
    }

    /// <summary>The most a role may approve; null means no limit, and a role that may not decide gets 0 (validated earlier by the API).</summary>
    public long? LimitOf(string role) => role switch
    {
        Roles.Admin => null,
        Roles.Finance => options.Value.FinanceMaxAmount,
        Roles.Approver => options.Value.ApproverMaxAmount,
        _ => 0,
    };

    private DateTimeOffset Now()
    {
        // PostgreSQL keeps microseconds: round so that what we return equals what a re-read gives.
        var now = time.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % 10, TimeSpan.Zero);
    }

    private static async Task<ApprovalView?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string id, DateTimeOffset now,
        CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM approvals WHERE id = @id FOR UPDATE", connection, tx);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, now) : null;
    }

    private static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, AuditEntry entry, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, tx);
        AuditSql.AddTo(batch, entry);
        await batch.ExecuteNonQueryAsync(ct);
    }

    private static ApprovalView Read(NpgsqlDataReader r, DateTimeOffset now)
    {
        var stored = r.GetString(1);
        var expires = At(r, 12)!.Value;
        return new ApprovalView
        {
            Id = r.GetString(0),
            Status = stored is ApprovalStatuses.Pending or ApprovalStatuses.Approved && expires <= now ? ApprovalStatuses.Expired : stored,
            DealerId = r.GetString(2),
            OrderHash = r.GetString(3),
            Amount = r.GetInt64(4),
            Currency = Str(r, 5),
            CampaignId = Str(r, 6),
            Code = Str(r, 7),
            Reason = r.GetString(8),
            Note = Str(r, 9),
            RequestedBy = Str(r, 10),
            RequestedAt = At(r, 11)!.Value,
            ExpiresAt = expires,
            DecidedBy = Str(r, 13),
            DecidedRole = Str(r, 14),
            DecidedAt = At(r, 15),
            DecisionCode = Str(r, 16),
            DecisionNote = Str(r, 17),
            ConsumedAt = At(r, 18),
        };
    }

    private static string? Str(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset? At(NpgsqlDataReader r, int i) =>
        r.IsDBNull(i) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetFieldValue<DateTime>(i), DateTimeKind.Utc));

    private static NpgsqlParameter<string?> Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };

    private static NpgsqlParameter Time(DateTimeOffset value) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value.UtcDateTime };
}
