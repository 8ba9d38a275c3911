using Npgsql;

namespace CouponGrains.Grains.Storage;

/// <summary>The product's PostgreSQL connection pool, shared by the ledger, the stores and migrations.</summary>
public sealed class Database(NpgsqlDataSource dataSource, NpgsqlDataSource? lookups = null)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>
    /// A small pool whose sessions always use the generic plan of a prepared statement, for the batched
    /// lookups of orders' stacking slots (<see cref="CapTotalsReader"/>), one or two per redemption. Left
    /// to choose, PostgreSQL planned them afresh on every call (0.3 ms of planning for 0.1 ms of
    /// execution); their LATERAL form makes every key an index lookup on (dealer_id, order_id) in the
    /// generic plan too. Other scopes stay on custom plans: a dealer's totals ran 3× slower generic.
    /// </summary>
    public NpgsqlDataSource Lookups { get; } = lookups ?? dataSource;

    public static NpgsqlDataSource CreateLookupSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = $"{builder.Options} -c plan_cache_mode=force_generic_plan".Trim();
        builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, 16);
        return CreateDataSource(builder.ConnectionString);
    }

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        // No LLVM JIT: its threshold is a plan's estimated cost, which stale statistics inflate, and then
        // a 3 ms statement spent 30 ms compiling itself (a fraud rule on a young table did, every few
        // batches). Every statement here is short; none gains from JIT.
        builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c jit=off".Trim();
        // The hot statements (ledger append, cap totals) are few and repeated: prepare them once per
        // connection instead of parsing and planning on every call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        return builder.Build();
    }
}
