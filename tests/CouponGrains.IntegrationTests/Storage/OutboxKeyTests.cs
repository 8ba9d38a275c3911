using CouponGrains.Api.Observability;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Npgsql;

namespace CouponGrains.IntegrationTests.Storage;

/// <summary>
/// The outbox has one index, its primary key on the position (tx, seq), which the relay reads and sweeps by and the
/// backlog gauge starts from. Rows written before the change keep their order across the migration.
/// </summary>
public sealed class OutboxKeyTests
{
    [Fact]
    public async Task TheOutboxHasOnlyItsPositionKey()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_outbox_key");
        await MigrationRunner.ApplyAsync(cs);

        var indexes = await TestPostgres.ScalarAsync<string>(cs,
            "SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'outbox'");
        Assert.Equal("CREATE UNIQUE INDEX outbox_pkey ON public.outbox USING btree (tx, seq)", indexes);
    }

    [Fact]
    public async Task RowsFromBeforeTheMigrationKeepTheirPositionAndAPositionIsWrittenOnce()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_outbox_key_up");
        await MigrationRunner.ApplyAsync(cs, upTo: 17);
        await TestPostgres.ScalarAsync<object>(cs,
            """
            INSERT INTO outbox (tx, event_id, type, redemption_id) VALUES (7, 'R-2:committed', 'redemption_committed', 'R-2');
            INSERT INTO outbox (tx, event_id, type, redemption_id) VALUES (5, 'R-1:committed', 'redemption_committed', 'R-1');
            SELECT 1
            """);
        await MigrationRunner.ApplyAsync(cs);

        Assert.Equal("R-1:committed,R-2:committed",
            await TestPostgres.ScalarAsync<string>(cs, "SELECT string_agg(event_id, ',' ORDER BY tx, seq) FROM outbox"));
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => TestPostgres.ScalarAsync<object>(cs,
            "INSERT INTO outbox (tx, seq, event_id, type, redemption_id) SELECT tx, seq, 'again', type, redemption_id FROM outbox LIMIT 1 RETURNING 1"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }

    [Fact]
    public async Task TheBacklogGaugeCountsFromTheFirstRowInPositionOrder()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_outbox_gauge");
        await MigrationRunner.ApplyAsync(cs);
        await using var db = Database.CreateDataSource(cs);

        Assert.Equal((0L, TimeSpan.Zero), await DatabaseSampler.OutboxBacklogAsync(db, CancellationToken.None));

        // Three events, each in a transaction of its own; the first is a minute old.
        await TestPostgres.ScalarAsync<object>(cs,
            "INSERT INTO outbox (event_id, type, redemption_id, at) VALUES ('R-1:committed', 'redemption_committed', 'R-1', now() - interval '60 seconds') RETURNING 1");
        await TestPostgres.ScalarAsync<object>(cs,
            "INSERT INTO outbox (event_id, type, redemption_id) VALUES ('R-2:committed', 'redemption_committed', 'R-2') RETURNING 1");
        await TestPostgres.ScalarAsync<object>(cs,
            "INSERT INTO outbox (event_id, type, redemption_id) VALUES ('R-3:committed', 'redemption_committed', 'R-3') RETURNING 1");
        var (rows, age) = await DatabaseSampler.OutboxBacklogAsync(db, CancellationToken.None);
        Assert.Equal(3L, rows);
        Assert.InRange(age.TotalSeconds, 59, 120);

        // The relay sweeps from the front: the gauge follows.
        await TestPostgres.ScalarAsync<object>(cs, "DELETE FROM outbox WHERE event_id = 'R-1:committed' RETURNING 1");
        (rows, age) = await DatabaseSampler.OutboxBacklogAsync(db, CancellationToken.None);
        Assert.Equal(2L, rows);
        Assert.InRange(age.TotalSeconds, 0, 30);
    }
}
