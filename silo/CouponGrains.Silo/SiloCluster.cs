using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using CouponGrains.Api.Observability;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Redemptions;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponGrains.Silo;

/// <summary>What a silo needs to be one of many: its advertised address, membership timings, readiness and metrics.</summary>
public static class SiloCluster
{
    /// <summary>Binds <c>Orleans.Configuration.ClusterMembershipOptions</c> (probe and death-vote timings).</summary>
    public const string MembershipSection = "Orleans:Membership";

    public static IPAddress AdvertisedAddress(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(configured, out var ip))
        {
            return ip;
        }

        // A host name (compose service, pod host name): the first IPv4 address it resolves to.
        var addresses = Dns.GetHostAddresses(configured);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Orleans:AdvertisedIPAddress '{configured}' does not resolve.");
    }

    public static IServiceCollection AddCouponGrainsSiloObservability(this IServiceCollection services)
    {
        services.AddSingleton<DbDataSource>(sp => sp.GetRequiredService<Database>().DataSource);
        services.AddHostedService<LedgerMetrics>();
        services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>("silo-active", tags: [ObservabilityExtensions.ReadyTag]);
        return services;
    }
}

/// <summary>Ready only while this silo is <c>Active</c> in the cluster's membership view (not joining, not leaving).</summary>
public sealed class SiloActiveHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var status = membership.CurrentSnapshot.GetSiloStatus(self);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"silo is {status}"));
    }
}

/// <summary>
/// Exports the ledger's group-commit statistics (batches, rows), its unknown outcomes and the redemptions still awaiting
/// resolution, the outbox relay's progress, and the redemptions' waits for held capacity, as observable instruments.
/// </summary>
public sealed class LedgerMetrics(RedemptionLedger ledger, OutboxRelay relay, HeldCapacityWaits waits, CouponGrainsMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveTotal("coupongrains.pipeline.relay.published", "{event}", "Events the outbox relay published (replays included).",
            () => relay.Stats.Published);
        metrics.ObserveTotal("coupongrains.pipeline.relay.deleted", "{row}", "Outbox rows the relay deleted once every consumer had applied them.",
            () => relay.Stats.Deleted);
        metrics.ObserveTotal("coupongrains.pipeline.relay.reads", "{read}", "Reads of the outbox by the leading relay.",
            () => relay.Stats.Reads);
        metrics.ObserveTotal("coupongrains.ledger.batches", "{batch}", "Ledger INSERT batches committed; rows / batches is the mean batch size.",
            () => ledger.Stats.Batches);
        metrics.ObserveTotal("coupongrains.ledger.rows", "{row}", "Ledger rows written in those batches.", () => ledger.Stats.Rows);
        metrics.ObserveTotal("coupongrains.ledger.unknown_outcomes", "{batch}",
            "Ledger batches whose connection broke after they were sent, so that they had to be resolved against the ledger.",
            () => ledger.Stats.UnknownBatches);
        metrics.ObserveCurrent("coupongrains.ledger.awaiting_resolution", "{redemption}",
            "Redemptions of such batches whose resolution waits for PostgreSQL to answer; their holds are kept meanwhile.",
            () => ledger.Stats.AwaitingResolution);
        metrics.ObserveTotal("coupongrains.redemption.held_capacity_waits", "{wait}",
            "Times a redemption found a cap with room in its committed total filled by holds in flight, gave back what it held and waited to try again.",
            () => waits.Stats.Waits);
        metrics.ObserveTotal("coupongrains.redemption.held_capacity_gave_up", "{redemption}",
            "Redemptions answered 503 cap_contended: the holds in flight were still there when the wait ended.",
            () => waits.Stats.GaveUp);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
