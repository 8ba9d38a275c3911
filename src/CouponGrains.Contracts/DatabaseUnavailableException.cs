using System.Data.Common;

namespace CouponGrains.Contracts;

/// <summary>
/// PostgreSQL could not serve a grain call: it refused the connection, one broke, or it is shutting down. The silo
/// turns such a failure into this type at the grain boundary (<c>DatabaseFailureFilter</c>), because the driver's
/// own exceptions cannot cross to an API host at all: Orleans has no codec for them. The API answers it 503 with
/// Retry-After.
/// </summary>
[GenerateSerializer, Alias("database-unavailable")]
public sealed class DatabaseUnavailableException : Exception
{
    public DatabaseUnavailableException()
    {
    }

    public DatabaseUnavailableException(string message) : base(message)
    {
    }

    /// <summary>
    /// The database failure in <paramref name="exception"/>'s chain that says PostgreSQL could not be reached: one its
    /// driver calls transient (a broken connection, a timeout, no pool slot), or a connection error (SQLSTATE class
    /// 08), insufficient resources (53: too many connections) or operator intervention (57: shutting down, not
    /// accepting connections yet). Any other database error is a fault of ours, not a reason to retry.
    /// </summary>
    public static DbException? Find(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException db && (db.IsTransient || db.SqlState is { Length: 5 } state && state[..2] is "08" or "53" or "57"))
            {
                return db;
            }
        }

        return null;
    }
}
