using CouponGrains.Contracts;
using Npgsql;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>
/// Which database failures the API answers 503 (PostgreSQL could not be reached: retry) and which stay 500 (a fault of
/// ours that a retry would only repeat).
/// </summary>
public sealed class DatabaseFailureTests
{
    public static TheoryData<string, bool> SqlStates => new()
    {
        { "53300", true },  // too_many_connections
        { "57P01", true },  // admin_shutdown
        { "57P03", true },  // cannot_connect_now: starting up or in recovery
        { "08006", true },  // connection_failure
        { "40001", true },  // serialization_failure: transient by Npgsql's reckoning
        { "42P01", false }, // undefined_table: a missing migration is not cured by retrying
        { "23505", false }, // unique_violation
        { "22P02", false }, // invalid_text_representation
    };

    [Theory]
    [MemberData(nameof(SqlStates))]
    public void AServerErrorIsUnavailableOnlyWhenTheDatabaseCouldNotServe(string sqlState, bool unavailable)
    {
        var error = new PostgresException("test", "ERROR", "ERROR", sqlState);

        Assert.Equal(unavailable, DatabaseUnavailableException.Find(error) is not null);
        // However deep a grain call or an Orleans wrapper buries it.
        Assert.Equal(unavailable, DatabaseUnavailableException.Find(new InvalidOperationException("grain call", new AggregateException(error))) is not null);
    }

    [Fact]
    public void ABrokenConnectionIsUnavailable() =>
        Assert.NotNull(DatabaseUnavailableException.Find(new NpgsqlException("Exception while reading from stream", new IOException("reset"))));

    [Fact]
    public void AnErrorWithNoDatabaseInItIsNot() =>
        Assert.Null(DatabaseUnavailableException.Find(new InvalidOperationException("a bug", new ArgumentException("bad"))));
}
