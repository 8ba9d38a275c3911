using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponGrains.Client;

/// <summary>
/// The API host's view of its link to the cluster: retries the first connection until a gateway answers
/// (API hosts may start before any silo), counts connected gateways, and is ready while any is.
/// </summary>
public sealed class ClusterConnection : IClusterConnectionStatusObserver, IClientConnectionRetryFilter, IHealthCheck
{
    /// <summary>Binds <c>Orleans.Configuration.GatewayOptions</c> (e.g. <c>GatewayListRefreshPeriod</c>).</summary>
    public const string GatewaySection = "Orleans:Gateway";

    private int _gateways = -1; // unknown until the runtime reports; the host only serves once connected

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"No gateway reachable yet ({exception.GetType().Name}: {exception.Message}); retrying in 2 s.");
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        return true;
    }

    public void NotifyClusterConnectionLost() => Volatile.Write(ref _gateways, 0);

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        Volatile.Write(ref _gateways, currentNumberOfGateways);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(Volatile.Read(ref _gateways) != 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no gateway connected"));
}
