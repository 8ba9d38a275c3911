using Npgsql;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>
/// The PostgreSQL server that ./test.sh started. Tests that need it fail loudly when it is missing;
/// they never skip.
/// </summary>
public static class TestPostgres
{
    public const string EnvironmentVariable = "COUPONGRAINS_TEST_POSTGRES";

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set: run the tests through ./test.sh, which starts a throwaway PostgreSQL.");

    /// <summary>Creates a fresh database on the test server and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (n, v) in parameters)
        {
            command.Parameters.AddWithValue(n, v);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A port nothing listens on, below the kernel's ephemeral range: a port from that range
    /// can be taken by any outgoing connection (the silo's own PostgreSQL pool) before the process it
    /// was meant for binds it. No port is handed out twice in one test run.</summary>
    public static int FreePort()
    {
        var below = EphemeralStart();
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var port = Random.Shared.Next(20000, below);
                if (HandedOut.Contains(port))
                {
                    continue;
                }

                try
                {
                    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                    listener.Start();
                }
                catch (System.Net.Sockets.SocketException)
                {
                    continue;
                }

                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"No free TCP port in 20000-{below - 1}.");
    }

    private static int EphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var start = int.Parse(range[0]);
            return start > 21000 ? start : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
    }
}
