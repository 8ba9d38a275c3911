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
        return builder.Build();
    }
}
