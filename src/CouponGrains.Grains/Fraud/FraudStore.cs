using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Fraud;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using static CouponGrains.Grains.Storage.SqlParameters;
using NpgsqlTypes;

namespace CouponGrains.Grains.Fraud;

/// <summary>
/// Fraud scoring over the event stream, in PostgreSQL: each batch records what it saw (per-minute rates, code and
/// customer spread, invoices) and re-evaluates the rules only for the orders, invoices, entities, codes and
/// customers the batch touched. Orders are looked up in the ledger itself, which every event comes from. A flag is
/// unique per rule and subject, so a re-evaluation refreshes its evidence and never raises a second flag.
/// </summary>
public sealed class FraudStore(Database database, AuditLog audit, IOptions<PipelineOptions> options, ConsumerSlots slots)
{
    private readonly NpgsqlDataSource _db = database.DataSource;
    private readonly NpgsqlDataSource _pipeline = database.Pipeline;
    private readonly PipelineOptions _options = options.Value;

    /// <summary>
    /// Applies batches of one partition exactly once (see <see cref="ConsumerTransaction"/>). Per-minute rates are
    /// counted per partition (summed when read), so partitions never wait on each other's row of a shared code.
    /// </summary>
    public Task<ConsumerTransaction.Applied> ApplyAsync(int partition, IReadOnlyList<RedemptionEventBatch> batches) =>
        ConsumerTransaction.RunAsync(_pipeline, slots, PipelineNames.Fraud, partition, batches,
            (connection, tx, fresh) => ApplyFreshAsync(connection, tx, fresh, partition));

    private async Task ApplyFreshAsync(NpgsqlConnection connection, NpgsqlTransaction tx, RedemptionEvent[] events, int partition)
    {
        var committed = events.Where(e => e.Type == RedemptionEventType.Committed).OrderBy(e => e.RedemptionId, StringComparer.Ordinal).ToArray();
        var invoiced = events.Where(e => e.Type == RedemptionEventType.Invoiced && e.InvoiceNumber is not null).ToArray();
        await using var batch = new NpgsqlBatch(connection, tx);
        if (committed.Length > 0)
        {
            var rates = committed.SelectMany(e => RateKeys(e))
                .GroupBy(k => k).Select(g => (g.Key.Kind, g.Key.Entity, g.Key.Minute, N: g.Count()))
                .OrderBy(k => k.Kind, StringComparer.Ordinal).ThenBy(k => k.Entity, StringComparer.Ordinal).ThenBy(k => k.Minute).ToArray();
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO fraud_rates (kind, entity, minute, part, n) SELECT k, e, m, @part, n FROM unnest(@kinds, @entities, @minutes, @ns) AS r(k, e, m, n)
                ON CONFLICT (kind, entity, minute, part) DO UPDATE SET n = fraud_rates.n + EXCLUDED.n
                """,
                Texts("kinds", rates.Select(r => r.Kind)), Texts("entities", rates.Select(r => r.Entity)),
                Times("minutes", rates.Select(r => r.Minute)), Ints("ns", rates.Select(r => r.N)),
                new NpgsqlParameter<int>("part", partition)));

            var codes = committed.GroupBy(e => (e.Code, e.DealerId)).OrderBy(g => g.Key.Code, StringComparer.Ordinal)
                .ThenBy(g => g.Key.DealerId, StringComparer.Ordinal).ToArray();
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO fraud_code_dealers (code, dealer_id, n, last_at)
                SELECT u.* FROM unnest(@codes, @dealers, @ns, @times) AS u(code, dealer_id, n, last_at)
                -- Generated codes only: the code-sharing rule, this table's one reader, leaves named (public) codes
                -- out, and under load spread over many campaigns their every dealer would be a row to write.
                WHERE NOT EXISTS (SELECT 1 FROM coupons c WHERE c.code = u.code AND c.named)
                ON CONFLICT (code, dealer_id) DO UPDATE SET n = fraud_code_dealers.n + EXCLUDED.n,
                    last_at = greatest(fraud_code_dealers.last_at, EXCLUDED.last_at)
                """,
                Texts("codes", codes.Select(g => g.Key.Code)), Texts("dealers", codes.Select(g => g.Key.DealerId)),
                Longs("ns", codes.Select(g => (long)g.Count())), Times("times", codes.Select(g => g.Max(e => e.RedeemedAt)))));

            var customers = committed.Where(e => e.CustomerId is not null).GroupBy(e => (e.CustomerId!, e.DealerId))
                .OrderBy(g => g.Key.Item1, StringComparer.Ordinal).ThenBy(g => g.Key.DealerId, StringComparer.Ordinal).ToArray();
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO fraud_customer_dealers (customer_id, dealer_id, n, last_at) SELECT * FROM unnest(@customers, @dealers, @ns, @times)
                ON CONFLICT (customer_id, dealer_id) DO UPDATE SET n = fraud_customer_dealers.n + EXCLUDED.n,
                    last_at = greatest(fraud_customer_dealers.last_at, EXCLUDED.last_at)
                """,
                Texts("customers", customers.Select(g => g.Key.Item1)), Texts("dealers", customers.Select(g => g.Key.DealerId)),
                Longs("ns", customers.Select(g => (long)g.Count())), Times("times", customers.Select(g => g.Max(e => e.RedeemedAt)))));
        }

        // A committed event carries its invoice too when the relay read it after the mapping (a replay), and then
        // the invoice event may have come first: either records it, once (a redemption is mapped to one invoice).
        var invoices = events.Where(e => e.InvoiceNumber is not null).DistinctBy(e => e.RedemptionId, StringComparer.Ordinal)
            .OrderBy(e => e.RedemptionId, StringComparer.Ordinal).ToArray();
        if (invoices.Length > 0)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO fraud_invoices (redemption_id, campaign_id, dealer_id, invoice_number, order_id)
                SELECT * FROM unnest(@ids, @campaigns, @dealers, @invoices, @orders)
                ON CONFLICT (redemption_id) DO NOTHING
                """,
                Texts("ids", invoices.Select(e => e.RedemptionId)), Texts("campaigns", invoices.Select(e => e.CampaignId)),
                Texts("dealers", invoices.Select(e => e.DealerId)), Texts("invoices", invoices.Select(e => e.InvoiceNumber)),
                Texts("orders", invoices.Select(e => e.OrderId))));
        }

        if (batch.BatchCommands.Count == 0)
        {
            return;
        }

        var touched = committed.Concat(invoiced).ToArray();
        AddRules(batch, committed, touched);
        await batch.ExecuteNonQueryAsync();
    }

    private void AddRules(NpgsqlBatch batch, RedemptionEvent[] committed, RedemptionEvent[] touched)
    {
        // An order's redemptions are the ledger's (tombstones of aborted attempts left out), found by its
        // redemptions_order index on (dealer_id, order_id), whose predicate is stated outright so that it qualifies.
        // The campaign is compared with IS NOT DISTINCT FROM, which no index can serve: with campaign_id = ..., the
        // index on (campaign_id, dealer_id, branch_id) would qualify as well, and a plan that took it would read every
        // redemption of the dealer in the campaign for each order.
        var orders = touched.Where(e => e.OrderId is not null).Select(e => (e.CampaignId, e.DealerId, e.OrderId!)).Distinct().ToArray();
        AddDuplicateRule(batch, FraudFlagTypes.DuplicateOrder,
            "redemptions o WHERE o.dealer_id = t.dealer_id AND o.order_id = t.value AND o.order_id IS NOT NULL AND o.status <> 'aborted' " +
            "AND o.campaign_id IS NOT DISTINCT FROM t.campaign_id",
            "o.id", "'Order %s of dealer %s redeemed %s times in campaign %s'", ("orderId", "codes", "o.code"), orders);
        var invoices = touched.Where(e => e.InvoiceNumber is not null).Select(e => (e.CampaignId, e.DealerId, e.InvoiceNumber!)).Distinct().ToArray();
        AddDuplicateRule(batch, FraudFlagTypes.DuplicateInvoice,
            "fraud_invoices o WHERE o.campaign_id = t.campaign_id AND o.dealer_id = t.dealer_id AND o.invoice_number = t.value",
            "o.redemption_id", "'Invoice %s of dealer %s carries %s redemptions of campaign %s'", ("invoiceNumber", "orders", "o.order_id"), invoices);

        if (committed.Length == 0)
        {
            return;
        }

        var rates = committed.SelectMany(e => RateKeys(e)).Distinct().ToArray();
        batch.BatchCommands.Add(Command(
            """
            INSERT INTO fraud_flags (type, subject, dealer_id, campaign_id, score, reason, evidence)
            SELECT 'velocity', v.kind || ':' || v.entity || '@' || to_char(v.minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
                   CASE v.kind WHEN 'code' THEN NULL ELSE split_part(v.entity, '/', 1) END, NULL,
                   least(100, 50 + 10 * floor(v.n / greatest(v.average * @factor, 1)))::int,
                   format('%s %s: %s redemptions in one minute against a trailing average of %s per minute',
                          v.kind, v.entity, v.n, round(v.average, 2)),
                   jsonb_build_object('kind', v.kind, 'entity', v.entity, 'minute', v.minute, 'count', v.n,
                                      'trailingAveragePerMinute', round(v.average, 3), 'windowMinutes', @window, 'factor', @factor)
            FROM (
                -- Only a minute already at the floor (@min) can flag: the trailing window is read for those alone.
                SELECT c.kind, c.entity, c.minute, c.n,
                       (SELECT coalesce(sum(h.n), 0) FROM fraud_rates h
                        WHERE h.kind = c.kind AND h.entity = c.entity
                          AND h.minute >= c.minute - make_interval(mins => @window) AND h.minute < c.minute)::numeric / @window AS average,
                       EXISTS (SELECT 1 FROM fraud_rates h
                               WHERE h.kind = c.kind AND h.entity = c.entity
                                 AND h.minute >= c.minute - make_interval(mins => @window)
                                 AND h.minute <= c.minute - make_interval(mins => @history)) AS has_history
                FROM (SELECT t.kind, t.entity, t.minute,
                             (SELECT sum(r.n) FROM fraud_rates r WHERE r.kind = t.kind AND r.entity = t.entity AND r.minute = t.minute) AS n
                      FROM unnest(@kinds, @entities, @minutes) AS t(kind, entity, minute)
                      OFFSET 0) AS c
                WHERE c.n >= @min) v
            WHERE v.has_history AND v.n >= @factor * v.average
            ORDER BY 2
            ON CONFLICT (type, subject) DO UPDATE SET score = EXCLUDED.score, reason = EXCLUDED.reason,
                evidence = EXCLUDED.evidence, updated_at = now()
            """,
            Texts("kinds", rates.Select(r => r.Kind)), Texts("entities", rates.Select(r => r.Entity)),
            Times("minutes", rates.Select(r => r.Minute)),
            new NpgsqlParameter<int>("window", Math.Max(1, _options.VelocityWindowMinutes)),
            new NpgsqlParameter<int>("history", Math.Max(1, _options.VelocityMinHistoryMinutes)),
            new NpgsqlParameter<int>("min", _options.VelocityMinPerMinute),
            new NpgsqlParameter<int>("factor", Math.Max(1, _options.VelocityFactor))));

        batch.BatchCommands.Add(Command(
            """
            INSERT INTO fraud_flags (type, subject, dealer_id, campaign_id, score, reason, evidence)
            SELECT 'code_sharing', d.code, NULL, NULL, least(100, 40 + 20 * count(*))::int,
                   format('Code %s was used by %s dealers', d.code, count(*)),
                   jsonb_build_object('code', d.code, 'dealers', jsonb_agg(d.dealer_id ORDER BY d.dealer_id), 'redemptions', sum(d.n))
            -- Named codes (public ones, meant for many dealers) are left out before their dealers are read: a hot
            -- public code has a row per dealer, which a join first would aggregate in every batch only to drop.
            FROM (SELECT t.code FROM unnest(@codes) AS t(code)
                  WHERE NOT EXISTS (SELECT 1 FROM coupons c WHERE c.code = t.code AND c.named)
                  OFFSET 0) AS t
            JOIN fraud_code_dealers d ON d.code = t.code
            GROUP BY d.code HAVING count(*) >= @n
            ORDER BY 2
            ON CONFLICT (type, subject) DO UPDATE SET score = EXCLUDED.score, reason = EXCLUDED.reason,
                evidence = EXCLUDED.evidence, updated_at = now()
            """,
            Texts("codes", committed.Select(e => e.Code).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)),
            new NpgsqlParameter<int>("n", Math.Max(2, _options.CodeSharingDealers))));

        var customers = committed.Where(e => e.CustomerId is not null).Select(e => e.CustomerId!).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).ToArray();
        if (customers.Length > 0)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO fraud_flags (type, subject, dealer_id, campaign_id, score, reason, evidence)
                SELECT 'customer_across_dealers', t.customer_id, NULL, NULL, least(100, 30 + 15 * a.dealers)::int,
                       format('Customer %s redeemed at %s dealers within %s days', t.customer_id, a.dealers, @days),
                       jsonb_build_object('customerId', t.customer_id, 'dealers', a.ids, 'redemptions', a.redemptions, 'windowDays', @days)
                -- A customer seen at fewer dealers than that ever cannot flag: a count from the primary key leaves
                -- them out before the window and the evidence are built. Then per customer, so each is two probes
                -- of the primary key whatever the statistics say.
                FROM (SELECT t.customer_id FROM unnest(@customers) AS t(customer_id)
                      WHERE (SELECT count(*) FROM fraud_customer_dealers x WHERE x.customer_id = t.customer_id) >= @n
                      OFFSET 0) AS t
                CROSS JOIN LATERAL (SELECT max(x.last_at) AS latest FROM fraud_customer_dealers x WHERE x.customer_id = t.customer_id) AS m
                CROSS JOIN LATERAL (SELECT count(*) AS dealers, jsonb_agg(d.dealer_id ORDER BY d.dealer_id) AS ids, sum(d.n) AS redemptions
                                    FROM fraud_customer_dealers d
                                    WHERE d.customer_id = t.customer_id AND d.last_at >= m.latest - make_interval(days => @days)) AS a
                WHERE a.dealers >= @n
                ORDER BY 2
                ON CONFLICT (type, subject) DO UPDATE SET score = EXCLUDED.score, reason = EXCLUDED.reason,
                    evidence = EXCLUDED.evidence, updated_at = now()
                """,
                Texts("customers", customers),
                new NpgsqlParameter<int>("days", Math.Max(1, _options.CustomerWindowDays)),
                new NpgsqlParameter<int>("n", Math.Max(2, _options.CustomerDealers))));
        }
    }

    /// <summary>
    /// One order or invoice number on more than one redemption of a campaign and dealer: <paramref name="redemptions"/>
    /// is the table (aliased <c>o</c>) and condition that find the redemptions of a key <c>t</c> (campaign_id,
    /// dealer_id, value), <paramref name="id"/> their redemption id. The evidence names the value (<c>Value</c>) and
    /// lists the distinct <c>ListColumn</c> of those redemptions.
    /// </summary>
    private static void AddDuplicateRule(NpgsqlBatch batch, string type, string redemptions, string id, string reason,
        (string Value, string List, string ListColumn) evidence, (string Campaign, string Dealer, string Value)[] keys)
    {
        if (keys.Length == 0)
        {
            return;
        }

        // Per key, so each is a probe of an index: a join let the planner scan the whole table whenever its
        // statistics lagged, a cost that grew with every redemption.
        batch.BatchCommands.Add(Command(
            $"""
            INSERT INTO fraud_flags (type, subject, dealer_id, campaign_id, score, reason, evidence)
            SELECT '{type}', t.campaign_id || '/' || t.dealer_id || '/' || t.value, t.dealer_id, t.campaign_id,
                   least(100, 60 + 20 * (a.n - 1))::int,
                   format({reason}, t.value, t.dealer_id, a.n, t.campaign_id),
                   jsonb_build_object('{evidence.Value}', t.value, '{evidence.List}', a.list, 'redemptionIds', a.ids)
            -- First a count per key, from the index alone; only the few keys seen twice build their evidence, whose two
            -- sorted aggregates had cost every key of every batch as much as the probe.
            FROM (SELECT t.campaign_id, t.dealer_id, t.value, c.n
                  FROM unnest(@campaigns, @dealers, @values) AS t(campaign_id, dealer_id, value)
                  CROSS JOIN LATERAL (SELECT count(*) AS n FROM {redemptions}) AS c
                  WHERE c.n > 1
                  OFFSET 0) AS t
            CROSS JOIN LATERAL (
                SELECT count(*) AS n, jsonb_agg(DISTINCT {evidence.ListColumn}) AS list, jsonb_agg({id} ORDER BY {id}) AS ids
                FROM {redemptions}) AS a
            WHERE a.n > 1
            ORDER BY 2
            ON CONFLICT (type, subject) DO UPDATE SET score = EXCLUDED.score, reason = EXCLUDED.reason,
                evidence = EXCLUDED.evidence, updated_at = now()
            """,
            Texts("campaigns", keys.Select(k => k.Campaign)), Texts("dealers", keys.Select(k => k.Dealer)),
            Texts("values", keys.Select(k => k.Value))));
    }

    private static IEnumerable<(string Kind, string Entity, DateTimeOffset Minute)> RateKeys(RedemptionEvent e)
    {
        var minute = new DateTimeOffset(e.RedeemedAt.UtcDateTime.Ticks - e.RedeemedAt.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        yield return ("dealer", e.DealerId, minute);
        if (e.BranchId is not null)
        {
            yield return ("branch", e.DealerId + "/" + e.BranchId, minute);
        }

        yield return ("code", e.Code, minute);
    }

    // ---- flags -----------------------------------------------------------------------------------

    private const string FlagColumns =
        "id, type, subject, dealer_id, campaign_id, score, reason, evidence::text, status, created_at, updated_at, decided_by, decided_at, decision_note";

    public async Task<FraudFlag[]> QueryFlagsAsync(FraudFlagQuery q)
    {
        await using var command = _db.CreateCommand(
            $"""
            SELECT {FlagColumns} FROM fraud_flags
            WHERE (@type::text IS NULL OR type = @type) AND (@dealer::text IS NULL OR dealer_id = @dealer OR evidence->'dealers' ? @dealer)
              AND (@campaign::text IS NULL OR campaign_id = @campaign) AND (@status::text IS NULL OR status = @status)
              AND (@from::timestamptz IS NULL OR created_at >= @from) AND (@to::timestamptz IS NULL OR created_at < @to)
              AND (@before::bigint IS NULL OR id < @before)
            ORDER BY id DESC LIMIT @limit
            """);
        command.Parameters.Add(Text("type", q.Type));
        command.Parameters.Add(Text("dealer", q.DealerId));
        command.Parameters.Add(Text("campaign", q.CampaignId));
        command.Parameters.Add(Text("status", q.Status));
        command.Parameters.Add(new NpgsqlParameter<DateTime?>("from", NpgsqlDbType.TimestampTz) { TypedValue = q.From?.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<DateTime?>("to", NpgsqlDbType.TimestampTz) { TypedValue = q.To?.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<long?>("before", NpgsqlDbType.Bigint) { TypedValue = q.BeforeId });
        command.Parameters.AddWithValue("limit", Math.Clamp(q.Limit, 1, 1000));
        var flags = new List<FraudFlag>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            flags.Add(ReadFlag(reader));
        }

        return flags.ToArray();
    }

    public async Task<FlagDecisionResult> DecideAsync(long id, bool confirm, string? note, Contracts.Access.Actor actor)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            $"""
            UPDATE fraud_flags SET status = @status, decided_by = @by, decided_at = now(), decision_note = @note
            WHERE id = @id AND status = 'open' RETURNING {FlagColumns}
            """, connection, tx);
        command.Parameters.AddWithValue("status", confirm ? FraudFlagStatuses.Confirmed : FraudFlagStatuses.Dismissed);
        command.Parameters.AddWithValue("by", actor.KeyId);
        command.Parameters.Add(Text("note", note));
        command.Parameters.AddWithValue("id", id);
        FraudFlag? flag = null;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            if (await reader.ReadAsync())
            {
                flag = ReadFlag(reader);
            }
        }

        if (flag is null)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM fraud_flags WHERE id = @id", connection, tx);
            exists.Parameters.AddWithValue("id", id);
            return new FlagDecisionResult(await exists.ExecuteScalarAsync() is null ? FlagDecisionStatus.NotFound : FlagDecisionStatus.AlreadyDecided, null);
        }

        await PipelineAudit.AppendAsync(connection, tx, audit,
            AuditEntry.For(actor, confirm ? PipelineAuditNames.Confirmed : PipelineAuditNames.Dismissed, PipelineAuditNames.FraudFlag,
                id.ToString(System.Globalization.CultureInfo.InvariantCulture)) with
            {
                Note = note,
                // Only an open flag is decided (the update's WHERE), so that is what it was.
                Before = AuditJson.Of(new { Status = FraudFlagStatuses.Open }),
                After = AuditJson.Of(new { flag.Status, flag.DecidedBy, flag.DecidedAt }),
            });
        await tx.CommitAsync();
        return new FlagDecisionResult(FlagDecisionStatus.Done, flag);
    }

    private static FraudFlag ReadFlag(NpgsqlDataReader r) => new()
    {
        Id = r.GetInt64(0),
        Type = r.GetString(1),
        Subject = r.GetString(2),
        DealerId = r.IsDBNull(3) ? null : r.GetString(3),
        CampaignId = r.IsDBNull(4) ? null : r.GetString(4),
        Score = r.GetInt32(5),
        Reason = r.GetString(6),
        Evidence = r.GetString(7),
        Status = r.GetString(8),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(9),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(10),
        DecidedBy = r.IsDBNull(11) ? null : r.GetString(11),
        DecidedAt = r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
        DecisionNote = r.IsDBNull(13) ? null : r.GetString(13),
    };
}
