using Npgsql;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// The product's PostgreSQL connection pools: the shared one (the stores, migrations), <see cref="GenericPlans"/> (the
/// ledger's append and the cap lookups), <see cref="Pipeline"/> (the event pipeline's consumer transactions) and
/// <see cref="Background"/> (the outbox relay and the audit sealer).
/// </summary>
public sealed class Database(NpgsqlDataSource dataSource, NpgsqlDataSource? genericPlans = null, NpgsqlDataSource? pipeline = null,
    NpgsqlDataSource? background = null)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>
    /// A small pool whose sessions always use the generic plan of a prepared statement, for the statements
    /// run once or more per redemption whose best plan does not depend on the values: the ledger's append
    /// and the batched cap-totals lookups (<see cref="CapTotalsReader"/>), whose LATERAL form is an index
    /// probe per key in the generic plan too. Left to choose, PostgreSQL planned them afresh on most calls,
    /// and the shared pool spread each over up to a hundred sessions that each planned it anew: in one
    /// hot run at 900 /s the append was planned on 1,000 of 2,341 calls at 2.6 ms a plan, the customer and
    /// dealer lookups on 6,258 of 7,304 at 0.6 ms, the order lookups at 0.3 ms for 0.1 ms of execution.
    /// <para>
    /// Its sessions also never choose a sequential scan where an index serves. One generic plan serves every key,
    /// and once the statistics say one public code (or campaign) holds the whole ledger, PostgreSQL planned the
    /// coupon lookup as a scan of the table, right for that one code and ruinous for every other: after a hot
    /// phase and an ANALYZE, each new code of the spread phase read all 149,489 redemptions (10,680 pages) to find
    /// none, reads of 82 keys took 3.9 s, and spread fell to 116 redemptions a second. The lookups are index probes
    /// by design (<see cref="CapTotalsReader.Sql"/>), and the append and its checks find rows by key.
    /// </para>
    /// </summary>
    public NpgsqlDataSource GenericPlans { get; } = genericPlans ?? dataSource;

    /// <summary>
    /// A pool of a few sessions for the pipeline's consumer transactions (fraud scoring, settlement, analytics), which
    /// run a few at a time (<c>Pipeline:ConsumerTransactions</c>), with the settings of <see cref="GenericPlans"/>.
    /// <para>
    /// From the shared pool of a hundred sessions, a consumer's statements met a session that had not run them before on
    /// most calls, so Npgsql never prepared them and PostgreSQL planned each one on every call: in the full system at
    /// 500 redemptions a second, 281 plans for 326 calls of each of the fraud rules, up to 2.3 ms a plan, and about
    /// 150 µs of planning per redemption in all. A few sessions that each see every statement prepare it once and keep
    /// its generic plan. The statements find their rows by key, so one plan serves every batch.
    /// </para>
    /// </summary>
    public NpgsqlDataSource Pipeline { get; } = pipeline ?? genericPlans ?? dataSource;

    /// <summary>
    /// A pool of a few sessions for the loops that run in the background a statement at a time, several times a second:
    /// the outbox relay (its lock session, its reads and deletes) and the audit sealer. For the reason given at
    /// <see cref="Pipeline"/>: on the shared pool their statements met a session that had not run them on most calls,
    /// and the relay's read was planned on 80 of 82 calls. Their plans are left to PostgreSQL's usual choice.
    /// </summary>
    public NpgsqlDataSource Background { get; } = background ?? dataSource;

    public static NpgsqlDataSource CreateGenericPlanSource(string connectionString) => CreateSizedSource(connectionString, 16, genericPlans: true);

    /// <summary>The pool for <see cref="Pipeline"/>: <paramref name="sessions"/> at most (the consumer transactions that run at once, and one more).</summary>
    public static NpgsqlDataSource CreatePipelineSource(string connectionString, int sessions) =>
        CreateSizedSource(connectionString, Math.Max(1, sessions) + 1, genericPlans: true);

    /// <summary>The pool for <see cref="Background"/>: the relay's lock session, its work, the sealer's, and one more.</summary>
    public static NpgsqlDataSource CreateBackgroundSource(string connectionString) => CreateSizedSource(connectionString, 4, genericPlans: false);

    /// <summary>A pool of at most <paramref name="sessions"/>; with <paramref name="genericPlans"/>, the settings of <see cref="GenericPlans"/>.</summary>
    private static NpgsqlDataSource CreateSizedSource(string connectionString, int sessions, bool genericPlans)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (genericPlans)
        {
            builder.Options = WithSetting(WithSetting(builder.Options, "plan_cache_mode=force_generic_plan"), "enable_seqscan=off");
        }

        builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, sessions);
        return CreateDataSource(builder.ConnectionString);
    }

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        // No LLVM JIT: its threshold is a plan's estimated cost, which stale statistics inflate, and then
        // a 3 ms statement spent 30 ms compiling itself (a fraud rule on a young table did, every few
        // batches). Every statement here is short; none gains from JIT.
        builder.ConnectionStringBuilder.Options = WithSetting(builder.ConnectionStringBuilder.Options, "jit=off");
        // The hot statements (ledger append, cap totals) are few and repeated: prepare them once per
        // connection instead of parsing and planning on every call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        return builder.Build();
    }

    /// <summary>Connection options that also set a PostgreSQL session setting (<c>-c name=value</c>).</summary>
    private static string WithSetting(string? options, string setting) => $"{options} -c {setting}".Trim();
}
