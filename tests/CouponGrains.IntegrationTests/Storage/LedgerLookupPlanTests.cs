using System.Text.RegularExpressions;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Npgsql;

namespace CouponGrains.IntegrationTests.Storage;

/// <summary>
/// The cap-totals lookups run with generic plans, built when a pooled session first executes them, often
/// on a young ledger. Each must probe the one index made for it: a branch lookup once settled on the
/// customer index with only the campaign as its condition and read a hot campaign's whole ledger per key,
/// and once a hot code's statistics made the coupon lookup a scan of the whole table for every code.
/// </summary>
public sealed partial class LedgerLookupPlanTests
{
    public static TheoryData<CapScope, string> Expected => new()
    {
        { CapScope.Campaign, "redemptions_members" },
        { CapScope.Dealer, "redemptions_members" },
        { CapScope.Branch, "redemptions_members" },
        { CapScope.Customer, "redemptions_customers" },
        { CapScope.Coupon, "redemptions_code" },
        { CapScope.Warranty, "redemptions_warranty" },
        { CapScope.Order, "redemptions_order" },
        { CapScope.OrderExclusive, "redemptions_order" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public async Task OnAnEmptyLedgerTheGenericPlanProbesTheLookupsOwnIndex(CapScope scope, string index)
    {
        var cs = await TestPostgres.CreateDatabaseAsync("plan_empty");
        await MigrationRunner.ApplyAsync(cs);

        Assert.Equal([index], await GenericPlanAsync(cs, scope));
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public async Task OnAHotCampaignsAnalyzedLedgerTheGenericPlanUsesNoOtherLookupsIndex(CapScope scope, string index)
    {
        var cs = await TestPostgres.CreateDatabaseAsync("plan_hot");
        await MigrationRunner.ApplyAsync(cs);
        // One campaign and one public code hold every row: an index that matches only those matches everything.
        await TestPostgres.ScalarAsync<int>(cs,
            """
            INSERT INTO redemptions (id, status, code, campaign_id, dealer_id, branch_id, customer_id, order_id, warranty_key, discount, currency)
            SELECT 'r' || g, 'committed', 'HOT', 'c1', 'd' || (g % 500), 'd' || (g % 500) || '-B', 'C-' || g, 'SO-' || g,
                   CASE WHEN g % 10 = 0 THEN 'VIN' || g END, 100, 'EUR'
            FROM generate_series(1, 20000) AS g;
            ANALYZE redemptions;
            SELECT 1
            """);

        // The campaign and the code are every row here, but the one generic plan serves every other key too: a
        // scan of the table would read all of it to find each new code's nothing.
        Assert.Equal([index], await GenericPlanAsync(cs, scope));
    }

    /// <summary>What the generic plan of <paramref name="scope"/>'s lookup reads redemptions with: index names, or a seq scan.</summary>
    private static async Task<string[]> GenericPlanAsync(string cs, CapScope scope)
    {
        var sql = CapTotalsReader.Sql(scope)
            .Replace("@memory", "$7").Replace("@a", "$1").Replace("@b", "$2").Replace("@c", "$3")
            .Replace("@f", "$4").Replace("@t", "$5").Replace("@x", "$6");
        // A session as the silo's lookups get it: generic plans, no sequential scan where an index serves.
        await using var sessions = Database.CreateGenericPlanSource(cs);
        await using var connection = await sessions.OpenConnectionAsync();
        await using (var prepare = new NpgsqlCommand(
                         $"""
                         PREPARE lookup(text[], text[], text[], timestamptz[], timestamptz[], boolean[], interval) AS {sql}
                         """, connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand(
            "EXPLAIN EXECUTE lookup('{c1}', '{d1}', '{d1-B}', '{-infinity}', '{infinity}', '{false}', '1 day')", connection);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        return Access().Matches(string.Join('\n', plan))
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : "redemptions (seq scan)").Distinct().ToArray();
    }

    [GeneratedRegex(@"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)|Seq Scan on redemptions")]
    private static partial Regex Access();
}
