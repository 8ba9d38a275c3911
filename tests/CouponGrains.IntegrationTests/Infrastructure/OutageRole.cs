using System.Net;
using Npgsql;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL role of its own that owns a database of its own, for tests that take the database away from a silo:
/// refusing the role its connections is what PostgreSQL does when its slots run out ("too many connections for role",
/// SQLSTATE 53300), on that silo alone.
/// </summary>
public sealed class OutageRole
{
    private readonly string _role = "cg_outage_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Creates the role and its database; returns the connection string a silo connects with.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        await OnServerAsync($"CREATE ROLE {_role} LOGIN");
        var database = _role + "_db";
        await OnServerAsync($"CREATE DATABASE {database} OWNER {_role}");
        return new NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString) { Database = database, Username = _role }.ConnectionString;
    }

    /// <summary>Refuses the role every new connection; <paramref name="endSessions"/> also ends the ones it has open.</summary>
    public async Task RefuseAsync(bool endSessions)
    {
        await OnServerAsync($"ALTER ROLE {_role} CONNECTION LIMIT 0");
        if (endSessions)
        {
            await OnServerAsync($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{_role}'");
        }
    }

    public Task AllowAsync() => OnServerAsync($"ALTER ROLE {_role} CONNECTION LIMIT -1");

    /// <summary>What every request sent while the database was away must get: 503 with Retry-After, never 500 or 201.</summary>
    public static async Task AssertAllRetryLaterAsync(IEnumerable<HttpResponseMessage> responses)
    {
        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
                $"expected 503 while the database was away, got {(int)response.StatusCode} {await ApiFixture.CodeOf(response)}");
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }

    private static async Task OnServerAsync(string sql)
    {
        var server = new NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
