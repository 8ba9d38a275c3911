using CouponGrains.Api;
using CouponGrains.Api.Auth;
using CouponGrains.Contracts;
using CouponGrains.Grains;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Storage;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;

namespace CouponGrains.Silo;

/// <summary>Settings under <c>Orleans</c>.</summary>
public sealed class SiloOptions
{
    public string ClusterId { get; set; } = "coupongrains";
    public string ServiceId { get; set; } = "coupongrains";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// The address other silos and clients reach this silo at: an IP, or a host name resolved once at
    /// start (a compose service name). Unset: loopback, the single-machine default. In Kubernetes, the
    /// pod IP from the downward API; never a Service address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>Listen on every interface (containers) rather than only on the advertised address.</summary>
    public bool ListenOnAnyHostAddress { get; set; }

    /// <summary>
    /// Above this share of the memory the process may have (the machine's, a container's limit, or
    /// <c>DOTNET_GCHeapHardLimit</c>), the silo deactivates its least recently used grains until it is
    /// ten points lower. Holds of a shed cap grain fail safe: its fence turns their redemptions away (503).
    /// 0 turns shedding off.
    /// </summary>
    public double ShedActivationsAbovePercent { get; set; } = 80;

    /// <summary>
    /// Orleans' strongly consistent grain directory instead of its default, eventually consistent one. The
    /// default lets two activations of one grain overlap while membership changes; hold fences keep that safe,
    /// but every redemption whose hold the superseded activation granted is turned away (503). Every silo of a
    /// cluster must agree on this setting.
    /// </summary>
    public bool ConsistentDirectory { get; set; } = true;
}

public static class SiloHostingExtensions
{
    public const string Invariant = "Npgsql";

    /// <summary>The connection string, from <c>ConnectionStrings:Postgres</c>; missing is a startup error.</summary>
    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                "ConnectionStrings:Postgres is not set (env ConnectionStrings__Postgres). ./run.sh sets it for a local PostgreSQL.");

    /// <summary>Orleans on PostgreSQL: ADO.NET clustering and grain storage, the dashboard, the grains' own storage.</summary>
    public static WebApplicationBuilder AddCouponGrainsSilo(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.PostgresConnectionString();
        var silo = builder.Configuration.GetSection("Orleans").Get<SiloOptions>() ?? new SiloOptions();
        builder.Services.AddSingleton(silo);
        builder.Services.AddCouponGrainsStorage(connectionString);
        builder.Services.AddCouponGrainsSiloObservability();

        // Grain state is stored with Orleans' version-tolerant binary serializer ([GenerateSerializer]
        // types with [Id] members), chosen before the first write and never to be changed in place.
        builder.Services.AddKeyedSingleton<IGrainStorageSerializer>(StorageNames.Grains,
            (sp, _) => new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>()));

        builder.UseOrleans(orleans =>
        {
            orleans.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = silo.ClusterId;
                o.ServiceId = silo.ServiceId;
            });
            orleans.ConfigureEndpoints(SiloCluster.AdvertisedAddress(silo.AdvertisedIPAddress), silo.SiloPort, silo.GatewayPort,
                listenOnAnyHostAddress: silo.ListenOnAnyHostAddress);
            orleans.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection(SiloCluster.MembershipSection));
            orleans.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
            orleans.AddAdoNetGrainStorage(StorageNames.Grains, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
            if (silo.ConsistentDirectory)
            {
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10
                orleans.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            }

            orleans.AddCouponGrainsPipelineStreams();
            orleans.AddIncomingGrainCallFilter<DatabaseFailureFilter>();
            if (silo.ShedActivationsAbovePercent > 0)
            {
                orleans.Configure<GrainCollectionOptions>(o =>
                {
                    o.EnableActivationSheddingOnMemoryPressure = true;
                    o.MemoryUsageLimitPercentage = silo.ShedActivationsAbovePercent;
                    o.MemoryUsageTargetPercentage = Math.Max(1, silo.ShedActivationsAbovePercent - 10);
                    // Checked every second, not every five: a burst of activations outran the default and ran a
                    // 512 MB heap out of memory between two checks.
                    o.MemoryUsagePollingPeriod = TimeSpan.FromSeconds(1);
                });
            }

            if (silo.Dashboard)
            {
                orleans.AddDashboard(o => o.HideTrace = true);
            }
        });
        return builder;
    }

    /// <summary>Creates the bootstrap admin key from <c>Api:BootstrapAdminKey</c> if no admin key exists.</summary>
    public static async Task BootstrapAdminKeyAsync(this WebApplication app)
    {
        var key = app.Services.GetRequiredService<ApiOptions>().BootstrapAdminKey;
        if (string.IsNullOrEmpty(key))
        {
            return;
        }

        var created = await app.Services.GetRequiredService<ApiKeyStore>().EnsureBootstrapAdminAsync(key);
        if (created)
        {
            app.Logger.LogInformation("Bootstrap admin key created from Api:BootstrapAdminKey");
        }
    }

    public static WebApplication MapSiloEndpoints(this WebApplication app)
    {
        var silo = app.Services.GetRequiredService<SiloOptions>();
        if (silo.Dashboard)
        {
            // Ops and admins only; a browser gets a Basic prompt where the password is the API key.
            app.MapOrleansDashboard("/dashboard").RequireAuthorization(Policies.Ops);
        }

        return app;
    }
}
