using System.Globalization;
using System.Text;
using System.Text.Json;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Analytics;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Settlement;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Settlement;

/// <summary>
/// Settlement in PostgreSQL: the consumer keeps one <c>settlement_items</c> row per redemption (amount,
/// invoice, what was reversed); credit-note runs credit each invoiced redemption once, debit reversals
/// that came after the credit, and pay accepted claims, all in one transaction per run.
/// </summary>
public sealed class SettlementStore(Database database, AuditLog audit, TimeProvider clock, ConsumerSlots slots)
{
    private const long RunLockKey = 0x536574746C65; // "Settle"
    private readonly NpgsqlDataSource _db = database.DataSource;
    private readonly NpgsqlDataSource _pipeline = database.Pipeline;

    /// <summary>Applies batches of one partition exactly once (see <see cref="ConsumerTransaction"/>).</summary>
    public Task<ConsumerTransaction.Applied> ApplyAsync(int partition, IReadOnlyList<RedemptionEventBatch> batches) =>
        ConsumerTransaction.RunAsync(_pipeline, slots, PipelineNames.Settlement, partition, batches, ApplyFreshAsync);

    private static async Task ApplyFreshAsync(NpgsqlConnection connection, NpgsqlTransaction tx, RedemptionEvent[] events)
    {
        // One row per redemption per batch: every event carries the redemption's details, so whichever
        // arrives first creates the row and the others only add what they are about.
        var items = events.GroupBy(e => e.RedemptionId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var first = g.First();
            var invoice = g.LastOrDefault(e => e.Type == RedemptionEventType.Invoiced) ?? g.FirstOrDefault(e => e.InvoiceNumber is not null);
            return (First: first, Committed: g.Any(e => e.Type == RedemptionEventType.Committed), Invoice: invoice,
                Reversed: g.Where(e => e.Type == RedemptionEventType.Reversed).Sum(e => e.Amount));
        }).ToArray();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO settlement_items (redemption_id, campaign_id, dealer_id, currency, amount, redeemed_at, committed,
                                          invoice_number, invoice_date, delivery_proof_ref, reversed_amount)
            SELECT * FROM unnest(@ids, @campaigns, @dealers, @currencies, @amounts, @times, @committed,
                                 @invoices, @dates, @proofs, @reversed)
            ON CONFLICT (redemption_id) DO UPDATE SET
                committed = settlement_items.committed OR EXCLUDED.committed,
                invoice_number = COALESCE(EXCLUDED.invoice_number, settlement_items.invoice_number),
                invoice_date = COALESCE(EXCLUDED.invoice_date, settlement_items.invoice_date),
                delivery_proof_ref = COALESCE(EXCLUDED.delivery_proof_ref, settlement_items.delivery_proof_ref),
                reversed_amount = settlement_items.reversed_amount + EXCLUDED.reversed_amount
            """, connection, tx);
        command.Parameters.Add(SqlParameters.Texts("ids", items.Select(i => i.First.RedemptionId)));
        command.Parameters.Add(SqlParameters.Texts("campaigns", items.Select(i => i.First.CampaignId)));
        command.Parameters.Add(SqlParameters.Texts("dealers", items.Select(i => i.First.DealerId)));
        command.Parameters.Add(SqlParameters.Texts("currencies", items.Select(i => i.First.Currency)));
        command.Parameters.Add(SqlParameters.Longs("amounts", items.Select(i => i.First.Discount)));
        command.Parameters.Add(SqlParameters.Times("times", items.Select(i => i.First.RedeemedAt)));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("committed", NpgsqlDbType.Array | NpgsqlDbType.Boolean)
        {
            TypedValue = items.Select(i => i.Committed).ToArray(),
        });
        command.Parameters.Add(SqlParameters.Texts("invoices", items.Select(i => i.Invoice?.InvoiceNumber)));
        command.Parameters.Add(new NpgsqlParameter<DateOnly?[]>("dates", NpgsqlDbType.Array | NpgsqlDbType.Date)
        {
            TypedValue = items.Select(i => i.Invoice?.InvoiceDate).ToArray(),
        });
        command.Parameters.Add(SqlParameters.Texts("proofs", items.Select(i => i.Invoice?.DeliveryProofRef)));
        command.Parameters.Add(SqlParameters.Longs("reversed", items.Select(i => i.Reversed)));
        await command.ExecuteNonQueryAsync();
    }

    // ---- credit notes ------------------------------------------------------------------------------

    private sealed record Candidate(string Kind, string DealerId, string Currency, string? RedemptionId, string? ClaimId,
        string? CampaignId, string? InvoiceNumber, long Amount, DateTimeOffset? RedeemedAt);

    public async Task<CreditNote[]> GenerateAsync(string? dealerId, DateOnly from, DateOnly to, Actor actor)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var gate = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k)", connection, tx))
        {
            // Runs never overlap, whichever silo starts them: what one credits the next sees as credited.
            gate.Parameters.AddWithValue("k", RunLockKey);
            await gate.ExecuteNonQueryAsync();
        }

        var candidates = new List<Candidate>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT 'credit', i.dealer_id, i.currency, i.redemption_id, NULL, i.campaign_id, i.invoice_number,
                   i.amount - i.reversed_amount, i.redeemed_at
            FROM settlement_items i LEFT JOIN settlement_campaign_rules r ON r.campaign_id = i.campaign_id
            WHERE i.committed AND i.credit_note_id IS NULL AND i.invoice_number IS NOT NULL
              AND i.invoice_date BETWEEN @from AND @to AND (@dealer::text IS NULL OR i.dealer_id = @dealer)
              AND (r.requires_delivery_proof IS NOT TRUE OR i.delivery_proof_ref IS NOT NULL)
              AND i.amount > i.reversed_amount
            UNION ALL
            SELECT 'debit', i.dealer_id, i.currency, i.redemption_id, NULL, i.campaign_id, i.invoice_number,
                   -(i.reversed_amount - (i.amount - i.credited_amount) - i.debited_amount), i.redeemed_at
            FROM settlement_items i
            WHERE i.credit_note_id IS NOT NULL AND (@dealer::text IS NULL OR i.dealer_id = @dealer)
              AND i.reversed_amount - (i.amount - i.credited_amount) - i.debited_amount > 0
            UNION ALL
            SELECT 'claim', c.dealer_id, c.currency, NULL, c.id, c.campaign_id, NULL, c.accepted_amount, NULL
            FROM claims c
            WHERE c.status IN ('approved', 'partially_accepted') AND c.credit_note_id IS NULL AND c.accepted_amount > 0
              AND (@dealer::text IS NULL OR c.dealer_id = @dealer)
            ORDER BY 2, 3, 1, 4, 5
            """, connection, tx))
        {
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("to", to);
            command.Parameters.Add(SqlParameters.Text("dealer", dealerId));
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                candidates.Add(new Candidate(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetInt64(7), reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8)));
            }
        }

        var now = clock.GetUtcNow();
        var notes = new List<CreditNote>();
        foreach (var group in candidates.GroupBy(c => (c.DealerId, c.Currency)))
        {
            var id = $"CN-{now:yyyyMMdd}-{Guid.NewGuid().ToString("N")[..10].ToUpperInvariant()}";
            var lines = group.Select((c, i) => new CreditNoteLine
            {
                LineNo = i + 1,
                Kind = c.Kind,
                RedemptionId = c.RedemptionId,
                ClaimId = c.ClaimId,
                CampaignId = c.CampaignId,
                InvoiceNumber = c.InvoiceNumber,
                Amount = c.Amount,
                RedeemedAt = c.RedeemedAt,
                SecondsToSettle = c.Kind == CreditNoteLineKinds.Credit && c.RedeemedAt is { } at ? (long)(now - at).TotalSeconds : null,
            }).ToArray();
            var note = new CreditNote
            {
                Id = id,
                DealerId = group.Key.DealerId,
                Currency = group.Key.Currency,
                PeriodFrom = from,
                PeriodTo = to,
                Total = lines.Sum(l => l.Amount),
                CreatedAt = now,
                CreatedBy = actor.KeyId,
                Lines = lines,
            };
            await WriteNoteAsync(connection, tx, note);
            await PipelineAudit.AppendAsync(connection, tx, audit,
                AuditEntry.For(actor, PipelineAuditNames.Generated, PipelineAuditNames.CreditNote, id) with
                {
                    After = AuditJson.Of(new { note.DealerId, note.Currency, note.Total, lines = lines.Length, from, to }),
                });
            notes.Add(note);
        }

        await tx.CommitAsync();
        return notes.ToArray();
    }

    private static async Task WriteNoteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CreditNote note)
    {
        await using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(SqlParameters.Command(
            """
            INSERT INTO credit_notes (id, dealer_id, currency, period_from, period_to, total, created_at, created_by)
            VALUES (@id, @dealer, @currency, @from, @to, @total, @at, @by)
            """,
            new NpgsqlParameter<string>("id", note.Id), new NpgsqlParameter<string>("dealer", note.DealerId),
            new NpgsqlParameter<string>("currency", note.Currency), new NpgsqlParameter<DateOnly>("from", note.PeriodFrom),
            new NpgsqlParameter<DateOnly>("to", note.PeriodTo), new NpgsqlParameter<long>("total", note.Total),
            new NpgsqlParameter<DateTime>("at", note.CreatedAt.UtcDateTime), SqlParameters.Text("by", note.CreatedBy)));
        var lines = note.Lines;
        batch.BatchCommands.Add(SqlParameters.Command(
            """
            INSERT INTO credit_note_lines (credit_note_id, line_no, kind, redemption_id, claim_id, campaign_id, invoice_number,
                                           amount, redeemed_at, seconds_to_settle)
            SELECT @id, * FROM unnest(@nos, @kinds, @redemptions, @claims, @campaigns, @invoices, @amounts, @times, @seconds)
            """,
            new NpgsqlParameter<string>("id", note.Id),
            SqlParameters.Ints("nos", lines.Select(l => l.LineNo)),
            SqlParameters.Texts("kinds", lines.Select(l => l.Kind)),
            SqlParameters.Texts("redemptions", lines.Select(l => l.RedemptionId)),
            SqlParameters.Texts("claims", lines.Select(l => l.ClaimId)),
            SqlParameters.Texts("campaigns", lines.Select(l => l.CampaignId)),
            SqlParameters.Texts("invoices", lines.Select(l => l.InvoiceNumber)),
            SqlParameters.Longs("amounts", lines.Select(l => l.Amount)),
            new NpgsqlParameter<DateTime?[]>("times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                TypedValue = lines.Select(l => l.RedeemedAt?.UtcDateTime).ToArray(),
            },
            new NpgsqlParameter<long?[]>("seconds", NpgsqlDbType.Array | NpgsqlDbType.Bigint)
            {
                TypedValue = lines.Select(l => l.SecondsToSettle).ToArray(),
            }));
        var credits = lines.Where(l => l.Kind == CreditNoteLineKinds.Credit).ToArray();
        batch.BatchCommands.Add(SqlParameters.Command(
            """
            UPDATE settlement_items i SET credit_note_id = @id, credited_amount = u.amount
            FROM unnest(@ids, @amounts) AS u(id, amount) WHERE i.redemption_id = u.id AND i.credit_note_id IS NULL
            """,
            new NpgsqlParameter<string>("id", note.Id), SqlParameters.Texts("ids", credits.Select(l => l.RedemptionId)),
            SqlParameters.Longs("amounts", credits.Select(l => l.Amount))));
        var debits = lines.Where(l => l.Kind == CreditNoteLineKinds.Debit).ToArray();
        batch.BatchCommands.Add(SqlParameters.Command(
            """
            UPDATE settlement_items i SET debited_amount = i.debited_amount - u.amount
            FROM unnest(@ids, @amounts) AS u(id, amount) WHERE i.redemption_id = u.id
            """,
            SqlParameters.Texts("ids", debits.Select(l => l.RedemptionId)), SqlParameters.Longs("amounts", debits.Select(l => l.Amount))));
        batch.BatchCommands.Add(SqlParameters.Command(
            "UPDATE claims SET credit_note_id = @id WHERE id = ANY(@ids) AND credit_note_id IS NULL",
            new NpgsqlParameter<string>("id", note.Id),
            SqlParameters.Texts("ids", lines.Where(l => l.Kind == CreditNoteLineKinds.Claim).Select(l => l.ClaimId))));
        await batch.ExecuteNonQueryAsync();
    }

    public async Task<CreditNote[]> ListNotesAsync(string? dealerId, int limit, string? id = null)
    {
        await using var connection = await _db.OpenConnectionAsync();
        var notes = new List<CreditNote>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT id, dealer_id, currency, period_from, period_to, total, created_at, created_by FROM credit_notes
            WHERE (@dealer::text IS NULL OR dealer_id = @dealer) AND (@id::text IS NULL OR id = @id)
            ORDER BY created_at DESC, id LIMIT @limit
            """, connection))
        {
            command.Parameters.Add(SqlParameters.Text("dealer", dealerId));
            command.Parameters.Add(SqlParameters.Text("id", id));
            command.Parameters.AddWithValue("limit", Math.Clamp(limit, 1, 1000));
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                notes.Add(new CreditNote
                {
                    Id = reader.GetString(0),
                    DealerId = reader.GetString(1),
                    Currency = reader.GetString(2),
                    PeriodFrom = reader.GetFieldValue<DateOnly>(3),
                    PeriodTo = reader.GetFieldValue<DateOnly>(4),
                    Total = reader.GetInt64(5),
                    CreatedAt = reader.GetFieldValue<DateTimeOffset>(6),
                    CreatedBy = reader.IsDBNull(7) ? null : reader.GetString(7),
                });
            }
        }

        if (id is null)
        {
            return notes.ToArray();
        }

        await using (var command = new NpgsqlCommand(
            """
            SELECT credit_note_id, line_no, kind, redemption_id, claim_id, campaign_id, invoice_number, amount, redeemed_at, seconds_to_settle
            FROM credit_note_lines WHERE credit_note_id = @id ORDER BY line_no
            """, connection))
        {
            command.Parameters.AddWithValue("id", id);
            var lines = new List<CreditNoteLine>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(new CreditNoteLine
                {
                    LineNo = reader.GetInt32(1),
                    Kind = reader.GetString(2),
                    RedemptionId = reader.IsDBNull(3) ? null : reader.GetString(3),
                    ClaimId = reader.IsDBNull(4) ? null : reader.GetString(4),
                    CampaignId = reader.IsDBNull(5) ? null : reader.GetString(5),
                    InvoiceNumber = reader.IsDBNull(6) ? null : reader.GetString(6),
                    Amount = reader.GetInt64(7),
                    RedeemedAt = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                    SecondsToSettle = reader.IsDBNull(9) ? null : reader.GetInt64(9),
                });
            }

            return notes.Select(n => n with { Lines = lines.ToArray() }).ToArray();
        }
    }

    public async Task<string> ReconciliationCsvAsync(string? dealerId, DateOnly from, DateOnly to)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT i.redemption_id, i.dealer_id, i.campaign_id, i.redeemed_at, i.currency, i.amount, i.reversed_amount,
                   i.invoice_number, i.invoice_date, i.delivery_proof_ref, i.credit_note_id, i.credited_amount, i.debited_amount,
                   (SELECT string_agg(DISTINCT l.credit_note_id, ' ') FROM credit_note_lines l
                    WHERE l.redemption_id = i.redemption_id AND l.kind = 'debit') AS debit_notes
            FROM settlement_items i
            WHERE i.redeemed_at >= @from AND i.redeemed_at < @to AND (@dealer::text IS NULL OR i.dealer_id = @dealer)
            ORDER BY i.dealer_id, i.redeemed_at, i.redemption_id
            """);
        command.Parameters.AddWithValue("from", from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        command.Parameters.AddWithValue("to", to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        command.Parameters.Add(SqlParameters.Text("dealer", dealerId));
        var csv = new StringBuilder(
            "redemption_id,dealer_id,campaign_id,redeemed_at,currency,discount,reversed,invoice_number,invoice_date,delivery_proof_ref," +
            "credit_note_id,credited,debit_note_ids,debited,net_settled,outstanding\n");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var amount = reader.GetInt64(5);
            var reversed = reader.GetInt64(6);
            var credited = reader.GetInt64(11);
            var debited = reader.GetInt64(12);
            var invoiced = !reader.IsDBNull(7);
            var net = credited - debited;
            var outstanding = invoiced ? amount - reversed - net : 0;
            Csv.Row(csv, reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3).ToString("O", CultureInfo.InvariantCulture), reader.GetString(4),
                Csv.N(amount), Csv.N(reversed), reader.IsDBNull(7) ? "" : reader.GetString(7),
                reader.IsDBNull(8) ? "" : reader.GetFieldValue<DateOnly>(8).ToString("O", CultureInfo.InvariantCulture),
                reader.IsDBNull(9) ? "" : reader.GetString(9), reader.IsDBNull(10) ? "" : reader.GetString(10), Csv.N(credited),
                reader.IsDBNull(13) ? "" : reader.GetString(13), Csv.N(debited), Csv.N(net), Csv.N(outstanding));
        }

        return csv.ToString();
    }

    public async Task SetDeliveryProofRequiredAsync(string campaignId, bool required, Actor actor)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        bool? before;
        await using (var command = new NpgsqlCommand(
            "SELECT requires_delivery_proof FROM settlement_campaign_rules WHERE campaign_id = @c FOR UPDATE", connection, tx))
        {
            command.Parameters.AddWithValue("c", campaignId);
            before = await command.ExecuteScalarAsync() as bool?;
        }

        await using (var command = new NpgsqlCommand(
            """
            INSERT INTO settlement_campaign_rules (campaign_id, requires_delivery_proof) VALUES (@c, @r)
            ON CONFLICT (campaign_id) DO UPDATE SET requires_delivery_proof = EXCLUDED.requires_delivery_proof
            """, connection, tx))
        {
            command.Parameters.AddWithValue("c", campaignId);
            command.Parameters.AddWithValue("r", required);
            await command.ExecuteNonQueryAsync();
        }

        await PipelineAudit.AppendAsync(connection, tx, audit,
            AuditEntry.For(actor, AuditNames.Updated, PipelineAuditNames.SettlementRule, campaignId) with
            {
                Before = before is { } was ? AuditJson.Of(new { requiresDeliveryProof = was }) : null,
                After = AuditJson.Of(new { requiresDeliveryProof = required }),
            });
        await tx.CommitAsync();
    }

    // ---- claims ------------------------------------------------------------------------------------

    private const string ClaimColumns =
        "id, dealer_id, campaign_id, kind, amount, currency, description, documents::text, status, accepted_amount, reason_code, note, " +
        "submitted_at, submitted_by, decided_at, decided_by, credit_note_id";

    public async Task<Claim> SubmitClaimAsync(ClaimSubmission submission, Actor actor)
    {
        var id = "CL-" + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        Claim claim;
        await using (var command = new NpgsqlCommand(
            $"""
            INSERT INTO claims (id, dealer_id, campaign_id, kind, amount, currency, description, documents, status, submitted_by, submitted_at)
            VALUES (@id, @dealer, @campaign, @kind, @amount, @currency, @description, @documents::jsonb, 'submitted', @by, @at)
            RETURNING {ClaimColumns}
            """, connection, tx))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("dealer", submission.DealerId);
            command.Parameters.Add(SqlParameters.Text("campaign", submission.CampaignId));
            command.Parameters.AddWithValue("kind", submission.Kind);
            command.Parameters.AddWithValue("amount", submission.Amount);
            command.Parameters.AddWithValue("currency", submission.Currency);
            command.Parameters.AddWithValue("description", submission.Description);
            command.Parameters.AddWithValue("documents", JsonSerializer.Serialize(submission.Documents));
            command.Parameters.AddWithValue("by", actor.KeyId);
            command.Parameters.AddWithValue("at", clock.GetUtcNow().UtcDateTime);
            claim = (await ReadClaimsAsync(command))[0];
        }

        await PipelineAudit.AppendAsync(connection, tx, audit, AuditEntry.For(actor, PipelineAuditNames.Submitted, PipelineAuditNames.Claim, id) with
        {
            ReasonCode = submission.Kind,
            Documents = JsonSerializer.Serialize(submission.Documents),
            After = AuditJson.Of(submission),
        });
        await tx.CommitAsync();
        return claim;
    }

    public async Task<Claim[]> ListClaimsAsync(string? dealerId, string? status, int limit, string? id = null)
    {
        await using var command = _db.CreateCommand(
            $"""
            SELECT {ClaimColumns} FROM claims
            WHERE (@dealer::text IS NULL OR dealer_id = @dealer) AND (@status::text IS NULL OR status = @status) AND (@id::text IS NULL OR id = @id)
            ORDER BY submitted_at DESC, id LIMIT @limit
            """);
        command.Parameters.Add(SqlParameters.Text("dealer", dealerId));
        command.Parameters.Add(SqlParameters.Text("status", status));
        command.Parameters.Add(SqlParameters.Text("id", id));
        command.Parameters.AddWithValue("limit", Math.Clamp(limit, 1, 1000));
        return (await ReadClaimsAsync(command)).ToArray();
    }

    public async Task<ClaimDecisionResult> DecideClaimAsync(string id, ClaimDecision decision, Actor actor)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        List<Claim> updated;
        await using (var command = new NpgsqlCommand(
            $"""
            UPDATE claims SET status = @status,
                   accepted_amount = CASE @status WHEN 'approved' THEN amount WHEN 'partially_accepted' THEN @accepted ELSE 0 END,
                   reason_code = @reason, note = @note, decided_by = @by, decided_at = now()
            WHERE id = @id AND status = 'submitted' RETURNING {ClaimColumns}
            """, connection, tx))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("status", decision.Decision switch
            {
                ClaimDecisionKind.Approve => ClaimStatuses.Approved,
                ClaimDecisionKind.PartiallyAccept => ClaimStatuses.PartiallyAccepted,
                _ => ClaimStatuses.Rejected,
            });
            command.Parameters.Add(new NpgsqlParameter<long?>("accepted", NpgsqlDbType.Bigint) { TypedValue = decision.AcceptedAmount });
            command.Parameters.Add(SqlParameters.Text("reason", decision.ReasonCode));
            command.Parameters.Add(SqlParameters.Text("note", decision.Note));
            command.Parameters.AddWithValue("by", actor.KeyId);
            updated = await ReadClaimsAsync(command);
        }

        if (updated.Count == 0)
        {
            await tx.RollbackAsync();
            var existing = await ListClaimsAsync(null, null, 1, id);
            return new ClaimDecisionResult(existing.Length == 0 ? ClaimDecisionStatus.NotFound : ClaimDecisionStatus.AlreadyDecided,
                existing.FirstOrDefault());
        }

        var claim = updated[0];
        await PipelineAudit.AppendAsync(connection, tx, audit, AuditEntry.For(actor, claim.Status, PipelineAuditNames.Claim, id) with
        {
            ReasonCode = decision.ReasonCode,
            Note = decision.Note,
            // Only a submitted claim is decided (the update's WHERE), and nothing of it was accepted yet.
            Before = AuditJson.Of(new { Status = ClaimStatuses.Submitted, AcceptedAmount = (long?)null }),
            After = AuditJson.Of(new { claim.Status, claim.AcceptedAmount }),
        });
        await tx.CommitAsync();
        return new ClaimDecisionResult(ClaimDecisionStatus.Done, claim);
    }

    private static async Task<List<Claim>> ReadClaimsAsync(NpgsqlCommand command)
    {
        var claims = new List<Claim>();
        await using var r = await command.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            claims.Add(new Claim
            {
                Id = r.GetString(0),
                Submission = new ClaimSubmission
                {
                    DealerId = r.GetString(1),
                    CampaignId = r.IsDBNull(2) ? null : r.GetString(2),
                    Kind = r.GetString(3),
                    Amount = r.GetInt64(4),
                    Currency = r.GetString(5),
                    Description = r.GetString(6),
                    Documents = JsonSerializer.Deserialize<ClaimDocument[]>(r.GetString(7)) ?? [],
                },
                Status = r.GetString(8),
                AcceptedAmount = r.IsDBNull(9) ? null : r.GetInt64(9),
                ReasonCode = r.IsDBNull(10) ? null : r.GetString(10),
                Note = r.IsDBNull(11) ? null : r.GetString(11),
                SubmittedAt = r.GetFieldValue<DateTimeOffset>(12),
                SubmittedBy = r.IsDBNull(13) ? null : r.GetString(13),
                DecidedAt = r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14),
                DecidedBy = r.IsDBNull(15) ? null : r.GetString(15),
                CreditNoteId = r.IsDBNull(16) ? null : r.GetString(16),
            });
        }

        return claims;
    }
}
