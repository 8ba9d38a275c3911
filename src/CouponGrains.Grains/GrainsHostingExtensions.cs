using CouponGrains.Grains.Approvals;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Redemptions;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CouponGrains.Grains;

public static class GrainsHostingExtensions
{
    /// <summary>Registers the PostgreSQL pieces the grains use: pool, ledger, coupon, key and approval stores,
    /// the audit trail and its sealer, and the redemption path's short-lived cache; binds <c>Approvals</c> settings.</summary>
    public static IServiceCollection AddCouponGrainsStorage(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(sp => new Database(Database.CreateDataSource(connectionString), Database.CreateGenericPlanSource(connectionString),
            Database.CreatePipelineSource(connectionString, sp.GetRequiredService<IOptions<PipelineOptions>>().Value.ConsumerTransactions),
            Database.CreateBackgroundSource(connectionString)));
        services.AddMetrics();
        services.AddSingleton<RedemptionTimings>();
        services.AddSingleton<RedemptionLedger>();
        services.AddSingleton<RedemptionCache>();
        services.AddSingleton<HeldCapacityWaits>();
        services.AddSingleton<CouponStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<AuditLog>();
        services.AddHostedService<AuditSealer>();
        services.AddSingleton<ApprovalStore>();
        services.AddOptions<ApprovalOptions>().BindConfiguration(ApprovalOptions.Section);
        services.AddSingleton(TimeProvider.System);
        services.AddCouponGrainsPipeline();
        return services;
    }
}
