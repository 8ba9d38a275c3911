using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CouponGrains.Grains.Audit;

/// <summary>
/// Seals new audit rows every ~200 ms, or at once when asked. Every silo runs one; the advisory lock in
/// <see cref="AuditLog.SealAsync"/> lets one at a time seal, so the cluster has one sealer in effect.
/// </summary>
public sealed class AuditSealer(AuditLog audit, ILogger<AuditSealer> logger) : BackgroundService
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await audit.WaitForSealRequestAsync(s_interval, stoppingToken);
                await audit.SealAsync(TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // PostgreSQL away: the rows wait unsealed and are sealed when it is back.
                logger.LogWarning(e, "Audit sealing failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
