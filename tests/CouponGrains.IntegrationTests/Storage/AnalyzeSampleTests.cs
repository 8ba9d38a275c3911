using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Storage;

/// <summary>
/// The tables that grow with every redemption are analyzed from small samples (migration 0019), so that autovacuum's
/// ANALYZE costs a tenth of the CPU it did. What shows it: the statistics ANALYZE keeps are as coarse as the target,
/// ten histogram buckets instead of a hundred, and the lookups' plans stay on their own indexes (LedgerLookupPlanTests
/// analyzes a hot ledger with these targets in place).
/// </summary>
public sealed class AnalyzeSampleTests
{
    [Theory]
    [InlineData("redemptions", "dealer_id")]
    [InlineData("redemptions", "customer_id")]
    [InlineData("audit_log", "entity_id")]
    [InlineData("outbox", "redemption_id")]
    public async Task AnalyzeKeepsTenBucketsOfAGrowingTablesColumn(string table, string column)
    {
        var cs = await TestPostgres.CreateDatabaseAsync("analyze_sample");
        await MigrationRunner.ApplyAsync(cs);
        await TestPostgres.ScalarAsync<int>(cs,
            """
            INSERT INTO redemptions (id, status, code, campaign_id, dealer_id, customer_id, discount, currency)
            SELECT 'r' || g, 'committed', 'CODE-' || (g % 700), 'c' || (g % 50), 'd' || (g % 500), 'C-' || g, 100, 'EUR'
            FROM generate_series(1, 20000) AS g;
            INSERT INTO audit_log (at, actor_key_id, actor_role, action, entity_type, entity_id)
            SELECT now(), 'k1', 'admin', 'redeemed', 'redemption', 'r' || g FROM generate_series(1, 20000) AS g;
            INSERT INTO outbox (event_id, type, redemption_id, amount, at)
            SELECT 'r' || g || ':committed', 'redemption_committed', 'r' || g, 100, now() FROM generate_series(1, 20000) AS g;
            ANALYZE redemptions, audit_log, outbox;
            SELECT 1
            """);

        var buckets = await TestPostgres.ScalarAsync<int>(cs,
            "SELECT coalesce(array_length(histogram_bounds::text::text[], 1), 0) FROM pg_stats WHERE tablename = @t AND attname = @c",
            ("t", table), ("c", column));
        Assert.InRange(buckets, 2, 11);
    }
}
