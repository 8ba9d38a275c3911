using CouponGrains.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.Grains;

public static class GrainsHostingExtensions
{
    /// <summary>Registers the PostgreSQL pieces the grains use: pool, ledger, coupon and key stores.</summary>
    public static IServiceCollection AddCouponGrainsStorage(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(_ => new Database(Database.CreateDataSource(connectionString)));
        services.AddSingleton<RedemptionLedger>();
        services.AddSingleton<CouponStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
