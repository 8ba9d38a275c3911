using Npgsql;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>
/// A session of the test's own that holds a campaign's hold fences exclusively. Every ledger append takes a shared
/// advisory lock on the fences of its holds, so each batch carrying a redemption of that campaign waits, on a session
/// of its own, until the holder lets go: a test can then end those sessions under the batches, as an outage would.
/// </summary>
public sealed class FenceHolder : IAsyncDisposable
{
    private static readonly TimeSpan s_waiting = TimeSpan.FromSeconds(10);
    private readonly NpgsqlConnection _connection;

    private FenceHolder(NpgsqlConnection connection) => _connection = connection;

    /// <summary>
    /// Takes every fence of <paramref name="campaignId"/> on a session of <paramref name="connectionString"/>'s
    /// database. The campaign's grains must have been active (a redemption) so that their fences exist.
    /// </summary>
    public static async Task<FenceHolder> HoldAsync(string connectionString, string campaignId)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var take = new NpgsqlCommand(
            "SELECT count(pg_advisory_lock(hashtextextended(key, 0))) FROM hold_fences WHERE strpos(key, @c) > 0", connection);
        take.Parameters.AddWithValue("c", campaignId);
        Assert.True((long)(await take.ExecuteScalarAsync())! > 0, "no fence of the campaign to hold");
        return new FenceHolder(connection);
    }

    /// <summary>
    /// Until <paramref name="count"/> ledger batches wait for the fences; returns their sessions' process ids.
    /// <paramref name="request"/>, the request whose batch is awaited, must not have been answered meanwhile.
    /// </summary>
    public async Task<int[]> WaitForBatchesAsync(int count, Task request)
    {
        var deadline = DateTime.UtcNow + s_waiting;
        await using var find = new NpgsqlCommand(
            """
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event = 'advisory' AND query LIKE '%pg_advisory_xact_lock_shared%'
            """, _connection);
        while (true)
        {
            var backends = new List<int>();
            await using (var reader = await find.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    backends.Add(reader.GetInt32(0));
                }
            }

            if (backends.Count >= count)
            {
                return backends.ToArray();
            }

            Assert.False(request.IsCompleted, "the redemption was answered before its batch waited on the fence");
            Assert.True(DateTime.UtcNow < deadline, $"{count} ledger batches were not seen waiting on the fence within {s_waiting}");
            await Task.Delay(20);
        }
    }

    /// <summary>Has PostgreSQL terminate a waiting batch's session (FATAL 57P01), as an administrator or a failover would.</summary>
    public async Task TerminateAsync(int backend)
    {
        await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", _connection);
        terminate.Parameters.AddWithValue("pid", backend);
        Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
    }

    /// <summary>Lets the fences go: the batches waiting on them go on.</summary>
    public async Task ReleaseAsync()
    {
        await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
        await release.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
