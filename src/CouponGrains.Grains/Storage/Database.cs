using Npgsql;

namespace CouponGrains.Grains.Storage;

/// <summary>The product's PostgreSQL connection pool, shared by the ledger, the stores and migrations.</summary>
public sealed class Database(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        // The hot statements (ledger append, cap totals) are few and repeated: prepare them once per
        // connection instead of parsing and planning on every call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        return builder.Build();
    }
}
