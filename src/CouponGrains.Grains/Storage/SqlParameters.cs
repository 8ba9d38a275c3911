using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// Typed Npgsql parameters and batch commands, as every store writes them: arrays go to <c>unnest(…)</c>, so a
/// batch of rows is one statement.
/// </summary>
internal static class SqlParameters
{
    public static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    public static NpgsqlParameter Text(string name, string? value) =>
        new NpgsqlParameter<string?>(name, NpgsqlDbType.Text) { TypedValue = value };

    public static NpgsqlParameter Texts(string name, IEnumerable<string?> values) =>
        new NpgsqlParameter<string?[]>(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = values.ToArray() };

    public static NpgsqlParameter Longs(string name, IEnumerable<long> values) =>
        new NpgsqlParameter<long[]>(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = values.ToArray() };

    public static NpgsqlParameter Ints(string name, IEnumerable<int> values) =>
        new NpgsqlParameter<int[]>(name, NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = values.ToArray() };

    public static NpgsqlParameter Times(string name, IEnumerable<DateTimeOffset> values) =>
        new NpgsqlParameter<DateTime[]>(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = values.Select(v => v.UtcDateTime).ToArray() };
}
