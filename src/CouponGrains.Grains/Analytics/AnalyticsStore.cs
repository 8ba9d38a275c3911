using System.Globalization;
using CouponGrains.Contracts.Analytics;
using CouponGrains.Contracts.Events;
using CouponGrains.Domain.Analytics;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Analytics;

/// <summary>What analytics knows of a dealer (null fields: not known).</summary>
public sealed record DealerFacts(string? Region, string? ChannelTier);

/// <summary>What analytics knows of a campaign.</summary>
public sealed record CampaignFacts(string? Name, string? Kind, string? Currency, long? Budget);

/// <summary>
/// Analytics tables (see 0005_pipeline.sql): per day, campaign and dealer, everything is a sum, so a batch
/// is one upsert that adds its figures, and applying it once (by event id) keeps every figure exact.
/// Figures are attributed to the day the redemption was made, reversals included, so a day's net discount
/// always equals the ledger's for the redemptions of that day.
/// </summary>
public sealed class AnalyticsStore(Database database, ConsumerSlots slots)
{
    private readonly NpgsqlDataSource _db = database.DataSource;
    private readonly NpgsqlDataSource _pipeline = database.Pipeline;

    /// <summary>Applies batches of one partition exactly once (see <see cref="ConsumerTransaction"/>).</summary>
    public Task<ConsumerTransaction.Applied> ApplyAsync(int partition, IReadOnlyList<RedemptionEventBatch> batches,
        IReadOnlyDictionary<string, DealerFacts> dealers, IReadOnlyDictionary<string, CampaignFacts> campaigns) =>
        ConsumerTransaction.RunAsync(_pipeline, slots, PipelineNames.Analytics, partition, batches,
            (connection, tx, fresh) => ApplyFreshAsync(connection, tx, fresh, dealers, campaigns));

    private static async Task ApplyFreshAsync(NpgsqlConnection connection, NpgsqlTransaction tx, RedemptionEvent[] events,
        IReadOnlyDictionary<string, DealerFacts> dealers, IReadOnlyDictionary<string, CampaignFacts> campaigns)
    {
        var rows = events.GroupBy(e => (Day: DateOnly.FromDateTime(e.RedeemedAt.UtcDateTime), e.CampaignId, e.DealerId))
            .OrderBy(g => g.Key.CampaignId, StringComparer.Ordinal).ThenBy(g => g.Key.Day).ThenBy(g => g.Key.DealerId, StringComparer.Ordinal)
            .Select(g =>
            {
                var facts = dealers.GetValueOrDefault(g.Key.DealerId);
                var committed = g.Where(e => e.Type == RedemptionEventType.Committed).ToArray();
                var reversed = g.Where(e => e.Type == RedemptionEventType.Reversed).ToArray();
                return (g.Key, facts?.Region, facts?.ChannelTier, g.First().Currency, Redemptions: (long)committed.Length,
                    Discount: committed.Sum(e => e.Discount), Eligible: committed.Sum(e => e.EligibleValue),
                    Reversals: (long)reversed.Length, Reversed: reversed.Sum(e => e.Amount),
                    Invoiced: (long)g.Count(e => e.Type == RedemptionEventType.Invoiced));
            }).ToArray();
        await using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(SqlParameters.Command(
            """
            INSERT INTO analytics_daily (day, campaign_id, dealer_id, region, channel_tier, currency, redemptions, discount,
                                         eligible_value, reversals, reversed_discount, invoiced)
            SELECT * FROM unnest(@days, @campaigns, @dealers, @regions, @tiers, @currencies, @redemptions, @discounts,
                                 @eligible, @reversals, @reversed, @invoiced)
            ON CONFLICT (campaign_id, day, dealer_id) DO UPDATE SET
                region = COALESCE(analytics_daily.region, EXCLUDED.region),
                channel_tier = COALESCE(analytics_daily.channel_tier, EXCLUDED.channel_tier),
                redemptions = analytics_daily.redemptions + EXCLUDED.redemptions,
                discount = analytics_daily.discount + EXCLUDED.discount,
                eligible_value = analytics_daily.eligible_value + EXCLUDED.eligible_value,
                reversals = analytics_daily.reversals + EXCLUDED.reversals,
                reversed_discount = analytics_daily.reversed_discount + EXCLUDED.reversed_discount,
                invoiced = analytics_daily.invoiced + EXCLUDED.invoiced
            """,
            new NpgsqlParameter<DateOnly[]>("days", NpgsqlDbType.Array | NpgsqlDbType.Date) { TypedValue = rows.Select(r => r.Key.Day).ToArray() },
            SqlParameters.Texts("campaigns", rows.Select(r => r.Key.CampaignId)),
            SqlParameters.Texts("dealers", rows.Select(r => r.Key.DealerId)),
            SqlParameters.Texts("regions", rows.Select(r => r.Region)),
            SqlParameters.Texts("tiers", rows.Select(r => r.ChannelTier)),
            SqlParameters.Texts("currencies", rows.Select(r => r.Currency)),
            SqlParameters.Longs("redemptions", rows.Select(r => r.Redemptions)),
            SqlParameters.Longs("discounts", rows.Select(r => r.Discount)),
            SqlParameters.Longs("eligible", rows.Select(r => r.Eligible)),
            SqlParameters.Longs("reversals", rows.Select(r => r.Reversals)),
            SqlParameters.Longs("reversed", rows.Select(r => r.Reversed)),
            SqlParameters.Longs("invoiced", rows.Select(r => r.Invoiced))));
        AddLines(batch, events, dealers);
        var known = events.Select(e => e.CampaignId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(id => (Id: id, Facts: campaigns.GetValueOrDefault(id))).Where(c => c.Facts is not null).ToArray();
        if (known.Length > 0)
        {
            batch.BatchCommands.Add(SqlParameters.Command(
                """
                INSERT INTO analytics_campaigns (campaign_id, name, kind, currency, budget)
                SELECT * FROM unnest(@ids, @names, @kinds, @currencies, @budgets)
                ON CONFLICT (campaign_id) DO UPDATE SET budget = EXCLUDED.budget, name = EXCLUDED.name
                """,
                SqlParameters.Texts("ids", known.Select(c => c.Id)),
                SqlParameters.Texts("names", known.Select(c => c.Facts!.Name)),
                SqlParameters.Texts("kinds", known.Select(c => c.Facts!.Kind)),
                SqlParameters.Texts("currencies", known.Select(c => c.Facts!.Currency)),
                new NpgsqlParameter<long?[]>("budgets", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = known.Select(c => c.Facts!.Budget).ToArray() }));
        }

        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>The figure columns of analytics_lines (see 0007_analytics_lines.sql), in <see cref="LineFigures"/> order.</summary>
    private static readonly (string Column, Func<LineFigures, long> Value)[] s_lineColumns =
    [
        ("lines", f => f.Lines), ("units", f => f.Units), ("revenue", f => f.Revenue), ("discount", f => f.Discount), ("cost", f => f.Cost),
        ("uncosted_units", f => f.UncostedUnits), ("uncosted_revenue", f => f.UncostedRevenue), ("uncosted_discount", f => f.UncostedDiscount),
        ("returns", f => f.Returns), ("returned_units", f => f.ReturnedUnits), ("returned_revenue", f => f.ReturnedRevenue),
        ("returned_discount", f => f.ReturnedDiscount), ("returned_cost", f => f.ReturnedCost),
        ("returned_uncosted_units", f => f.ReturnedUncostedUnits), ("returned_uncosted_revenue", f => f.ReturnedUncostedRevenue),
        ("returned_uncosted_discount", f => f.ReturnedUncostedDiscount),
    ];

    private static readonly string s_insertLines =
        $"""
        INSERT INTO analytics_lines (day, campaign_id, dealer_id, sku, category, region, channel_tier, currency,
                                     {string.Join(", ", s_lineColumns.Select(c => c.Column))})
        SELECT * FROM unnest(@days, @campaigns, @dealers, @skus, @categories, @regions, @tiers, @currencies,
                             {string.Join(", ", s_lineColumns.Select(c => "@" + c.Column))})
        ON CONFLICT (campaign_id, day, dealer_id, sku, category) DO UPDATE SET
            region = COALESCE(analytics_lines.region, EXCLUDED.region),
            channel_tier = COALESCE(analytics_lines.channel_tier, EXCLUDED.channel_tier),
            {string.Join(",\n    ", s_lineColumns.Select(c => $"{c.Column} = analytics_lines.{c.Column} + EXCLUDED.{c.Column}"))}
        """;

    /// <summary>Adds the batch's per-line figures to analytics_lines, in key order (as the daily upsert does).</summary>
    private static void AddLines(NpgsqlBatch batch, RedemptionEvent[] events, IReadOnlyDictionary<string, DealerFacts> dealers)
    {
        var rows = LineAnalytics.Aggregate(events)
            .OrderBy(r => r.Key.CampaignId, StringComparer.Ordinal).ThenBy(r => r.Key.Day).ThenBy(r => r.Key.DealerId, StringComparer.Ordinal)
            .ThenBy(r => r.Key.Sku, StringComparer.Ordinal).ThenBy(r => r.Key.Category, StringComparer.Ordinal)
            .ToArray();
        if (rows.Length == 0)
        {
            return;
        }

        var currencies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            currencies.TryAdd(e.CampaignId, e.Currency);
        }

        var command = SqlParameters.Command(s_insertLines,
            new NpgsqlParameter<DateOnly[]>("days", NpgsqlDbType.Array | NpgsqlDbType.Date) { TypedValue = rows.Select(r => r.Key.Day).ToArray() },
            SqlParameters.Texts("campaigns", rows.Select(r => r.Key.CampaignId)),
            SqlParameters.Texts("dealers", rows.Select(r => r.Key.DealerId)),
            SqlParameters.Texts("skus", rows.Select(r => r.Key.Sku)),
            SqlParameters.Texts("categories", rows.Select(r => r.Key.Category)),
            SqlParameters.Texts("regions", rows.Select(r => dealers.GetValueOrDefault(r.Key.DealerId)?.Region)),
            SqlParameters.Texts("tiers", rows.Select(r => dealers.GetValueOrDefault(r.Key.DealerId)?.ChannelTier)),
            SqlParameters.Texts("currencies", rows.Select(r => currencies[r.Key.CampaignId])));
        foreach (var (column, value) in s_lineColumns)
        {
            command.Parameters.Add(SqlParameters.Longs(column, rows.Select(r => value(r.Value))));
        }

        batch.BatchCommands.Add(command);
    }

    // ---- reads -------------------------------------------------------------------------------------

    /// <summary>
    /// Figures per group. By campaign, dealer, region, channel tier or day: redemption counts and discount from
    /// analytics_daily, units, revenue, cost and margin from analytics_lines. By SKU or category everything comes from
    /// analytics_lines: a "redemption" is then a discounted line of that SKU or category, a "reversal" a return of one.
    /// </summary>
    public async Task<AnalyticsRow[]> RedemptionsAsync(string groupBy, AnalyticsFilter filter)
    {
        var key = groupBy switch
        {
            AnalyticsDimensions.Campaign => "campaign_id",
            AnalyticsDimensions.Dealer => "dealer_id",
            AnalyticsDimensions.Region => "COALESCE(region, 'unknown')",
            AnalyticsDimensions.ChannelTier => "COALESCE(channel_tier, 'unknown')",
            AnalyticsDimensions.Day => "to_char(day, 'YYYY-MM-DD')",
            AnalyticsDimensions.Sku => "sku",
            AnalyticsDimensions.Category => "COALESCE(NULLIF(category, ''), 'unknown')",
            _ => throw new ArgumentOutOfRangeException(nameof(groupBy), groupBy, "unknown dimension"),
        };
        var lineSums = string.Join(", ", s_lineColumns.Select(c => $"sum({c.Column})::bigint AS {c.Column}"));
        var lines = $"SELECT {key} AS k, currency, {lineSums} FROM analytics_lines WHERE {Where} GROUP BY 1, 2";
        var sql = groupBy is AnalyticsDimensions.Sku or AnalyticsDimensions.Category
            ? $"""
              SELECT l.k, l.currency, l.lines, l.returns, l.discount, l.returned_discount, l.revenue,
                     {string.Join(", ", s_lineColumns.Select(c => "l." + c.Column))}
              FROM ({lines}) l ORDER BY 1, 2 LIMIT 10000
              """
            : $"""
              SELECT d.k, d.currency, d.redemptions, d.reversals, d.discount, d.reversed_discount, d.eligible_value,
                     {string.Join(", ", s_lineColumns.Select(c => $"COALESCE(l.{c.Column}, 0)"))}
              FROM (SELECT {key} AS k, currency, sum(redemptions)::bigint AS redemptions, sum(reversals)::bigint AS reversals,
                           sum(discount)::bigint AS discount, sum(reversed_discount)::bigint AS reversed_discount,
                           sum(eligible_value)::bigint AS eligible_value
                    FROM analytics_daily WHERE {Where} GROUP BY 1, 2) d
              LEFT JOIN ({lines}) l ON l.k = d.k AND l.currency = d.currency
              ORDER BY 1, 2 LIMIT 10000
              """;
        await using var command = _db.CreateCommand(sql);
        AddFilter(command, filter);
        var rows = new List<AnalyticsRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var discount = reader.GetInt64(4);
            var reversed = reader.GetInt64(5);
            var eligible = reader.GetInt64(6);
            var net = discount - reversed;
            var f = new LineFigures(reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11),
                reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14), reader.GetInt64(15), reader.GetInt64(16), reader.GetInt64(17),
                reader.GetInt64(18), reader.GetInt64(19), reader.GetInt64(20), reader.GetInt64(21), reader.GetInt64(22));
            var margin = MarginFigures.Of(f);
            rows.Add(new AnalyticsRow
            {
                Key = reader.GetString(0),
                Currency = reader.GetString(1),
                Redemptions = reader.GetInt64(2),
                Reversals = reader.GetInt64(3),
                Discount = discount,
                ReversedDiscount = reversed,
                NetDiscount = net,
                EligibleValue = eligible,
                DiscountRateBps = eligible > 0 ? net * 10_000 / eligible : null,
                MarginImpact = -net,
                Units = f.Units,
                ReturnedUnits = f.ReturnedUnits,
                NetUnits = margin.NetUnits,
                Revenue = f.Revenue,
                ReturnedRevenue = f.ReturnedRevenue,
                NetRevenue = margin.NetRevenue,
                CostedRevenue = margin.CostedRevenue,
                UncostedRevenue = margin.UncostedRevenue,
                Cost = margin.Cost,
                MarginBeforeDiscount = margin.MarginBeforeDiscount,
                MarginAfterDiscount = margin.MarginAfterDiscount,
                GrossMarginBps = margin.GrossMarginBps,
                GrossMarginBeforeDiscountBps = margin.GrossMarginBeforeDiscountBps,
            });
        }

        return rows.ToArray();
    }

    private const string Where =
        "(@campaign::text IS NULL OR campaign_id = @campaign) AND (@dealer::text IS NULL OR dealer_id = @dealer) " +
        "AND (@from::date IS NULL OR day >= @from) AND (@to::date IS NULL OR day <= @to)";

    private static void AddFilter(NpgsqlCommand command, AnalyticsFilter filter)
    {
        command.Parameters.Add(SqlParameters.Text("campaign", filter.CampaignId));
        command.Parameters.Add(SqlParameters.Text("dealer", filter.DealerId));
        command.Parameters.Add(new NpgsqlParameter<DateOnly?>("from", NpgsqlDbType.Date) { TypedValue = filter.From });
        command.Parameters.Add(new NpgsqlParameter<DateOnly?>("to", NpgsqlDbType.Date) { TypedValue = filter.To });
    }

    public async Task<BurnPoint[]> BudgetBurnAsync(string campaignId)
    {
        await using var command = _db.CreateCommand(
            "SELECT day, net_discount::bigint, cumulative_net_discount::bigint, budget FROM analytics_budget_burn WHERE campaign_id = @c ORDER BY day");
        command.Parameters.AddWithValue("c", campaignId);
        var points = new List<BurnPoint>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            long? budget = reader.IsDBNull(3) ? null : reader.GetInt64(3);
            var cumulative = reader.GetInt64(2);
            points.Add(new BurnPoint
            {
                Day = reader.GetFieldValue<DateOnly>(0),
                NetDiscount = reader.GetInt64(1),
                Cumulative = cumulative,
                Budget = budget,
                BurnBps = budget > 0 ? cumulative * 10_000 / budget : null,
            });
        }

        return points.ToArray();
    }

    public async Task<CampaignLift> LiftAsync(string campaignId)
    {
        await using var command = _db.CreateCommand(
            """
            WITH c AS (SELECT min(day) AS first, max(day) AS last, sum(eligible_value) AS value FROM analytics_daily WHERE campaign_id = @c),
                 d AS (SELECT DISTINCT dealer_id FROM analytics_daily WHERE campaign_id = @c),
                 b AS (SELECT sum(a.eligible_value) AS value FROM analytics_daily a, c
                       WHERE a.dealer_id IN (SELECT dealer_id FROM d) AND a.campaign_id <> @c
                         AND a.day >= c.first - (c.last - c.first + 1) AND a.day < c.first)
            SELECT c.first, c.last, COALESCE(c.value, 0)::bigint, COALESCE(b.value, 0)::bigint, (SELECT count(*) FROM d)
            FROM c, b
            """);
        command.Parameters.AddWithValue("c", campaignId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        const string baseline = "eligible value per day of the campaign's dealers in other campaigns over an equal-length window before its first redemption";
        if (reader.IsDBNull(0))
        {
            return new CampaignLift { CampaignId = campaignId, Baseline = baseline };
        }

        var first = reader.GetFieldValue<DateOnly>(0);
        var last = reader.GetFieldValue<DateOnly>(1);
        var days = last.DayNumber - first.DayNumber + 1;
        var perDay = reader.GetInt64(2) / days;
        var basePerDay = reader.GetInt64(3) / days;
        return new CampaignLift
        {
            CampaignId = campaignId,
            Dealers = (int)reader.GetInt64(4),
            From = first,
            To = last,
            CampaignValuePerDay = perDay,
            BaselineValuePerDay = basePerDay,
            LiftBps = basePerDay > 0 ? (perDay - basePerDay) * 10_000 / basePerDay : null,
            Baseline = baseline,
        };
    }

    public async Task<AnalyticsKpis> KpisAsync(AnalyticsFilter filter)
    {
        await using var command = _db.CreateCommand(
            $"""
            SELECT
              (SELECT COALESCE(sum(redemptions), 0)::bigint FROM analytics_daily WHERE {Where}),
              (SELECT count(*) FROM fraud_flags f
                WHERE (@campaign::text IS NULL OR f.campaign_id = @campaign) AND (@dealer::text IS NULL OR f.dealer_id = @dealer)
                  AND (@from::date IS NULL OR f.created_at >= @from) AND (@to::date IS NULL OR f.created_at < @to + 1)),
              (SELECT count(*) FROM approvals a WHERE (@campaign::text IS NULL OR a.campaign_id = @campaign)
                  AND (@dealer::text IS NULL OR a.dealer_id = @dealer)
                  AND (@from::date IS NULL OR a.requested_at >= @from) AND (@to::date IS NULL OR a.requested_at < @to + 1)),
              (SELECT count(*) FILTER (WHERE a.status IN ('approved', 'consumed')) FROM approvals a
                WHERE (@campaign::text IS NULL OR a.campaign_id = @campaign) AND (@dealer::text IS NULL OR a.dealer_id = @dealer)
                  AND (@from::date IS NULL OR a.requested_at >= @from) AND (@to::date IS NULL OR a.requested_at < @to + 1)),
              (SELECT count(*) FILTER (WHERE a.status IN ('approved', 'consumed', 'rejected')) FROM approvals a
                WHERE (@campaign::text IS NULL OR a.campaign_id = @campaign) AND (@dealer::text IS NULL OR a.dealer_id = @dealer)
                  AND (@from::date IS NULL OR a.requested_at >= @from) AND (@to::date IS NULL OR a.requested_at < @to + 1)),
              (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY l.seconds_to_settle) FROM credit_note_lines l JOIN credit_notes n ON n.id = l.credit_note_id
                WHERE l.kind = 'credit' AND (@campaign::text IS NULL OR l.campaign_id = @campaign) AND (@dealer::text IS NULL OR n.dealer_id = @dealer)
                  AND (@from::date IS NULL OR l.redeemed_at >= @from) AND (@to::date IS NULL OR l.redeemed_at < @to + 1)),
              (SELECT avg(l.seconds_to_settle)::bigint FROM credit_note_lines l JOIN credit_notes n ON n.id = l.credit_note_id
                WHERE l.kind = 'credit' AND (@campaign::text IS NULL OR l.campaign_id = @campaign) AND (@dealer::text IS NULL OR n.dealer_id = @dealer)
                  AND (@from::date IS NULL OR l.redeemed_at >= @from) AND (@to::date IS NULL OR l.redeemed_at < @to + 1)),
              (SELECT count(*) FROM credit_note_lines l JOIN credit_notes n ON n.id = l.credit_note_id
                WHERE l.kind = 'credit' AND (@campaign::text IS NULL OR l.campaign_id = @campaign) AND (@dealer::text IS NULL OR n.dealer_id = @dealer)
                  AND (@from::date IS NULL OR l.redeemed_at >= @from) AND (@to::date IS NULL OR l.redeemed_at < @to + 1))
            """);
        AddFilter(command, filter);
        long redemptions, flags, requests, approved, decided, credited;
        long? median, mean;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            redemptions = reader.GetInt64(0);
            flags = reader.GetInt64(1);
            requests = reader.GetInt64(2);
            approved = reader.GetInt64(3);
            decided = reader.GetInt64(4);
            median = reader.IsDBNull(5) ? null : reader.GetInt64(5);
            mean = reader.IsDBNull(6) ? null : reader.GetInt64(6);
            credited = reader.GetInt64(7);
        }

        await using var claims = _db.CreateCommand(
            """
            SELECT status, reason_code, count(*) FROM claims
            WHERE status <> 'submitted' AND (@campaign::text IS NULL OR campaign_id = @campaign) AND (@dealer::text IS NULL OR dealer_id = @dealer)
              AND (@from::date IS NULL OR decided_at >= @from) AND (@to::date IS NULL OR decided_at < @to + 1)
            GROUP BY status, reason_code
            """);
        AddFilter(claims, filter);
        long claimsDecided = 0, rejected = 0, partial = 0;
        var reasons = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await claims.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var status = reader.GetString(0);
                var n = reader.GetInt64(2);
                claimsDecided += n;
                if (status == "rejected")
                {
                    rejected += n;
                }
                else if (status == "partially_accepted")
                {
                    partial += n;
                }

                if (status != "approved" && !reader.IsDBNull(1))
                {
                    reasons[reader.GetString(1)] = reasons.GetValueOrDefault(reader.GetString(1)) + n;
                }
            }
        }

        return new AnalyticsKpis
        {
            Redemptions = redemptions,
            FraudFlags = flags,
            FraudFlagsPer1000Milli = redemptions > 0 ? flags * 1_000_000 / redemptions : 0,
            ExceptionRequests = requests,
            ExceptionsApproved = approved,
            ExceptionApprovalRateBps = decided > 0 ? approved * 10_000 / decided : null,
            ClaimsDecided = claimsDecided,
            ClaimsRejected = rejected,
            ClaimsPartiallyAccepted = partial,
            ClaimRejectionRateBps = claimsDecided > 0 ? rejected * 10_000 / claimsDecided : null,
            RejectionReasons = reasons,
            MedianSecondsToSettlement = median,
            MeanSecondsToSettlement = mean,
            CreditedRedemptions = credited,
        };
    }

    internal static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
