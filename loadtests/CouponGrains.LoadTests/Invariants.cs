using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace CouponGrains.LoadTests;

public sealed record InvariantResult(string Name, long Violations, string Detail);

/// <summary>After a run: nothing acknowledged is missing, no cap passed, no key counted twice, counters equal the ledger.</summary>
public static class Invariants
{
    public static async Task<List<InvariantResult>> CheckAsync(string? postgres, HttpClient http, Scenario scenario, RunStats stats)
    {
        var results = new List<InvariantResult>();
        if (postgres is null)
        {
            results.Add(new("postgres-available", 1, "no --postgres / ConnectionStrings__Postgres given: invariants cannot be checked"));
            return results;
        }

        await using var db = NpgsqlDataSource.Create(postgres);
        var ids = stats.Acked.Select(a => a.Id).ToArray();
        await using (var missing = db.CreateCommand(
            "SELECT count(*) FROM unnest(@ids) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.id = a.id AND r.status IN ('committed', 'reversed'))"))
        {
            missing.Parameters.AddWithValue("ids", ids);
            var n = (long)(await missing.ExecuteScalarAsync())!;
            results.Add(new("acknowledged-but-missing", n, $"{ids.Length} acknowledged redemptions checked in the ledger"));
        }

        results.Add(new("key-answered-with-two-ids", stats.IdsByKey.Count(k => k.Value.Distinct().Count() > 1),
            $"idempotency keys whose 201 answers carried different redemption ids, of {stats.IdsByKey.Count}"));
        await using (var dup = db.CreateCommand(
            "SELECT count(*) FROM (SELECT idem_scope, idem_key FROM redemptions WHERE campaign_id = ANY(@c) AND status <> 'aborted' GROUP BY 1, 2 HAVING count(*) > 1) d"))
        {
            dup.Parameters.AddWithValue("c", scenario.Campaigns);
            results.Add(new("double-counted-keys", (long)(await dup.ExecuteScalarAsync())!, "idempotency keys with more than one ledger row"));
        }

        // Every campaign's ledger total in one pass over the ledger (a thousand campaigns took 18 s one query each).
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var sums = db.CreateCommand(
                         "SELECT campaign_id, sum(discount - reversed_discount)::bigint FROM redemptions WHERE campaign_id = ANY(@c) AND status <> 'aborted' GROUP BY campaign_id"))
        {
            sums.Parameters.AddWithValue("c", scenario.Campaigns);
            await using var reader = await sums.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                totals[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        long over = 0, drift = 0;
        foreach (var campaign in scenario.Campaigns)
        {
            var ledger = totals.GetValueOrDefault(campaign);
            var view = (await http.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}"))!;
            var budget = view["budget"]!;
            if (ledger > budget["total"]!.GetValue<long>())
            {
                over++;
            }

            if (ledger != budget["spent"]!.GetValue<long>())
            {
                drift++;
            }
        }

        results.Add(new("over-redemption", over, $"campaigns whose ledger total passes the budget, of {scenario.Campaigns.Length}"));
        if (scenario.DealerCap is { } dealerCap)
        {
            await using var dealers = db.CreateCommand(
                "SELECT count(*) FROM (SELECT dealer_id FROM redemptions WHERE campaign_id = ANY(@c) AND status <> 'aborted' GROUP BY dealer_id HAVING sum(discount - reversed_discount) > @cap) o");
            dealers.Parameters.AddWithValue("c", scenario.Campaigns);
            dealers.Parameters.AddWithValue("cap", dealerCap);
            results.Add(new("dealer-cap-exceeded", (long)(await dealers.ExecuteScalarAsync())!, $"dealers past their cap of {dealerCap}"));
        }

        if (scenario.BranchQuota is { } quota)
        {
            await using var branches = db.CreateCommand(
                "SELECT count(*) FROM (SELECT branch_id FROM redemptions WHERE campaign_id = ANY(@c) AND status = 'committed' GROUP BY dealer_id, branch_id HAVING count(*) > @q) o");
            branches.Parameters.AddWithValue("c", scenario.Campaigns);
            branches.Parameters.AddWithValue("q", (long)quota);
            results.Add(new("branch-quota-exceeded", (long)(await branches.ExecuteScalarAsync())!, $"branches past their quota of {quota}"));
        }

        if (scenario.Name == "churn")
        {
            await using var left = db.CreateCommand("SELECT count(*) FROM redemptions WHERE campaign_id = ANY(@c) AND status = 'committed'");
            left.Parameters.AddWithValue("c", scenario.Campaigns);
            var failedReversals = stats.Outcomes.Where(o => o.Key.StartsWith("POST ", StringComparison.Ordinal) && !o.Key.StartsWith("POST 2", StringComparison.Ordinal))
                .Sum(o => o.Value);
            var stillCommitted = (long)(await left.ExecuteScalarAsync())!;
            results.Add(new("budget-not-returned", Math.Max(0, stillCommitted - failedReversals),
                $"redemptions still committed after redeem-and-reverse ({stats.Reversed.Count} reversed in the measured run)"));
        }
        results.Add(new("counter-vs-ledger", drift, "campaigns whose live spent differs from the ledger"));
        return results;
    }
}
