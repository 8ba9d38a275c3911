using System.Reflection;
using Npgsql;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// Applies the embedded, versioned SQL migrations in order, each in its own transaction, under an
/// advisory lock so that several silos starting together apply each migration exactly once.
/// </summary>
public static class MigrationRunner
{
    private const long LockKey = 0x436F75706F6E; // "Coupon"

    /// <param name="upTo">Stop after this version (tests that start from a database as an earlier version left it).</param>
    public static async Task<IReadOnlyList<string>> ApplyAsync(string connectionString, CancellationToken ct = default, int? upTo = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@k)", ct, ("k", LockKey));
        try
        {
            await ExecuteAsync(connection, null,
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, ct);
            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            var done = new List<string>();
            foreach (var (version, name, sql) in Embedded().TakeWhile(m => upTo is null || m.Version <= upTo))
            {
                if (applied.Contains(version))
                {
                    continue;
                }

                await using var tx = await connection.BeginTransactionAsync(ct);
                await ExecuteAsync(connection, tx, sql, ct);
                await ExecuteAsync(connection, tx, "INSERT INTO schema_migrations(version, name) VALUES (@v, @n)", ct,
                    ("v", version), ("n", name));
                await tx.CommitAsync(ct);
                done.Add(name);
            }

            return done;
        }
        finally
        {
            await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@k)", CancellationToken.None, ("k", LockKey));
        }
    }

    private static IEnumerable<(int Version, string Name, string Sql)> Embedded()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        const string marker = ".Storage.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.Contains(marker, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
                var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
                return (version, file, Read(assembly, n));
            })
            .OrderBy(m => m.version);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql,
        CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(ct);
    }
}
