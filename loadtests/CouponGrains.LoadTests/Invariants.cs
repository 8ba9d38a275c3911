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

        var (twoIds, keys) = KeysAnsweredWithTwoIds(stats.Acked);
        results.Add(new("key-answered-with-two-ids", twoIds, $"idempotency keys whose 201 answers carried different redemption ids, of {keys}"));
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
        results.Add(await RefusedWithRoomAsync(db, scenario, stats));
        return results;
    }

    /// <summary>
    /// A 409 cap refusal must be final: the cap it names had no room for the redemption in its committed total, not
    /// merely in holds of redemptions in flight that might be released. A cap refuses at some instant before its
    /// answer arrives, counting what had been confirmed by then; everything confirmed had been stamped
    /// (<c>redeemed_at</c>, before its ledger append) before that instant. So if even the redemptions stamped before the
    /// answer arrived leave room for one more, the refusal was not final. Silo and load console share this machine's
    /// clock. Every order of a scenario is worth <see cref="Scenario.Discount"/>; scenarios with reversals are skipped.
    /// </summary>
    private static async Task<InvariantResult> RefusedWithRoomAsync(NpgsqlDataSource db, Scenario scenario, RunStats stats)
    {
        const string name = "refused-with-room";
        var refusals = stats.Refusals.ToArray();
        if (scenario.Name == "churn")
        {
            return new(name, 0, $"not checked: reversals give room back ({refusals.Length} cap refusals)");
        }

        var stamps = new List<Stamp>();
        if (refusals.Length > 0)
        {
            await using var read = db.CreateCommand(
                "SELECT campaign_id, dealer_id, branch_id, redeemed_at FROM redemptions WHERE campaign_id = ANY(@c) AND status = 'committed'");
            read.Parameters.AddWithValue("c", scenario.Campaigns);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stamps.Add(new Stamp(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? "" : reader.GetString(2),
                    reader.GetFieldValue<DateTime>(3)));
            }
        }

        var (withRoom, checkedRefusals) = RefusalsWithRoom(scenario, refusals, stamps);
        return new(name, withRoom,
            $"budget, dealer-cap and branch-quota refusals that left room for one more redemption among those stamped before the answer, of {checkedRefusals}");
    }

    /// <summary>A committed redemption: its campaign, dealer and branch, and when it was stamped.</summary>
    public sealed record Stamp(string CampaignId, string DealerId, string BranchId, DateTime At);

    /// <summary>Idempotency keys whose successful answers named more than one redemption, and the keys answered at all.</summary>
    public static (long TwoIds, long Keys) KeysAnsweredWithTwoIds(IEnumerable<Acknowledged> acked)
    {
        var byKey = acked.GroupBy(a => a.IdempotencyKey, StringComparer.Ordinal).ToList();
        return (byKey.Count(k => k.Select(a => a.Id).Distinct(StringComparer.Ordinal).Count() > 1), byKey.Count);
    }

    /// <summary>
    /// Of the budget, dealer-cap and branch-quota <paramref name="refusals"/>, those answered when the redemptions stamped
    /// before the answer left room for one more (see <see cref="RefusedWithRoomAsync"/>), and how many were judged.
    /// </summary>
    public static (long WithRoom, long Judged) RefusalsWithRoom(Scenario scenario, IEnumerable<CapRefusal> refusals, IEnumerable<Stamp> stamps)
    {
        var byCampaign = new Dictionary<string, List<DateTime>>();
        var byDealer = new Dictionary<(string, string), List<DateTime>>();
        var byBranch = new Dictionary<(string, string, string), List<DateTime>>();
        foreach (var stamp in stamps)
        {
            Stamped(byCampaign, stamp.CampaignId).Add(stamp.At);
            Stamped(byDealer, (stamp.CampaignId, stamp.DealerId)).Add(stamp.At);
            Stamped(byBranch, (stamp.CampaignId, stamp.DealerId, stamp.BranchId)).Add(stamp.At);
        }

        foreach (var list in byCampaign.Values.Concat(byDealer.Values).Concat(byBranch.Values))
        {
            list.Sort();
        }

        long withRoom = 0, judged = 0;
        foreach (var refusal in refusals)
        {
            var campaign = scenario.Campaigns[refusal.Campaign];
            var (before, room) = refusal.Code switch
            {
                "campaign_budget_exhausted" => (byCampaign.GetValueOrDefault(campaign), scenario.Budget / Scenario.Discount),
                "dealer_cap_reached" when scenario.DealerCap is { } cap => (byDealer.GetValueOrDefault((campaign, refusal.DealerId)), cap / Scenario.Discount),
                "branch_quota_reached" when scenario.BranchQuota is { } quota => (byBranch.GetValueOrDefault((campaign, refusal.DealerId, refusal.BranchId)), quota),
                _ => (null, -1L),
            };
            if (room < 0)
            {
                continue;
            }

            judged++;
            withRoom += StampedBefore(before, refusal.AnsweredAt) + 1 <= room ? 1 : 0;
        }

        return (withRoom, judged);
    }

    private static List<DateTime> Stamped<TKey>(Dictionary<TKey, List<DateTime>> map, TKey key) where TKey : notnull
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        return list;
    }

    /// <summary>How many of the time-ordered <paramref name="stamps"/> lie before <paramref name="at"/>.</summary>
    private static long StampedBefore(List<DateTime>? stamps, DateTime at)
    {
        if (stamps is null)
        {
            return 0;
        }

        var index = stamps.BinarySearch(at);
        return index >= 0 ? index : ~index;
    }
}
