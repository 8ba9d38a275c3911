using System.Text.Json;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CouponGrains.Silo;

/// <summary><c>--verify-audit</c>: recomputes the audit hash chain, prints the result as JSON, and says by exit code whether it is intact.</summary>
public static class AuditVerifyCommand
{
    public static async Task<int> RunAsync(string connectionString)
    {
        await using var dataSource = Database.CreateDataSource(connectionString);
        var audit = new AuditLog(new Database(dataSource), NullLogger<AuditLog>.Instance);
        var result = await audit.VerifyAsync(CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(result, JsonSerializerOptions.Web));
        return result.Intact ? 0 : 1;
    }
}
