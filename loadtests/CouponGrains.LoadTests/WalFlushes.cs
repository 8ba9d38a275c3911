using Npgsql;

namespace CouponGrains.LoadTests;

/// <summary>
/// PostgreSQL's WAL flushes, second by second (<c>pg_stat_wal</c>): how many, and how long one took on average when
/// the server times them (<c>track_wal_io_timing</c>, which <c>scripts/pg.sh</c> turns on). Every 2xx redemption
/// waits for a flush, so a second in which the disk's flushes slowed shows in the timeline next to that second's p99.
/// </summary>
public sealed class WalFlushes : IDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly bool _timed;
    private readonly Lock _gate = new();
    private long _syncs;
    private double _syncMs;

    private WalFlushes(NpgsqlConnection connection, bool timed)
    {
        _connection = connection;
        _timed = timed;
        (_syncs, _syncMs) = Read();
    }

    /// <summary>A sampler on its own session, or null (with a note on stderr) when the database can't be read.</summary>
    public static WalFlushes? TryOpen(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }

        var connection = new NpgsqlConnection(connectionString);
        try
        {
            connection.Open();
            using var setting = new NpgsqlCommand("SELECT current_setting('track_wal_io_timing')::bool", connection);
            return new WalFlushes(connection, (bool)setting.ExecuteScalar()!);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // pg_stat_wal is PostgreSQL 14 and later; an older server, or none, leaves the timeline without flushes.
            connection.Dispose();
            Console.Error.WriteLine($"WAL flushes are not sampled: {e.Message}");
            return null;
        }
    }

    /// <summary>Flushes since the last call, and their mean duration in ms (null when the server does not time them).</summary>
    public (long Flushes, double? MeanMs)? Take()
    {
        // The progress timer may fire again while a slow read is still running: that second goes without.
        if (!_gate.TryEnter())
        {
            return null;
        }

        try
        {
            var (syncs, ms) = Read();
            var flushes = syncs - _syncs;
            double? mean = _timed && flushes > 0 ? Math.Round((ms - _syncMs) / flushes, 2) : null;
            (_syncs, _syncMs) = (syncs, ms);
            return (flushes, mean);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return null;
        }
        finally
        {
            _gate.Exit();
        }
    }

    private (long Syncs, double Ms) Read()
    {
        using var command = new NpgsqlCommand("SELECT wal_sync, wal_sync_time FROM pg_stat_wal", _connection);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetDouble(1));
    }

    public void Dispose() => _connection.Dispose();
}
