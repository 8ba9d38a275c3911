using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Settlement;
using CouponGrains.Grains.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CouponGrains.Grains.Settlement;

/// <summary>
/// Generates credit notes on a schedule: every <see cref="PipelineOptions.SettlementIntervalMinutes"/>, for
/// everything invoiced up to the end of yesterday (UTC) that is not credited yet. Every silo runs the timer;
/// runs are exactly-once by construction, so a second silo's run finds nothing left to credit.
/// </summary>
public sealed class SettlementScheduler(IGrainFactory grains, TimeProvider clock, IOptions<PipelineOptions> options,
    ILogger<SettlementScheduler> logger) : BackgroundService
{
    private static readonly DateOnly s_epoch = new(2000, 1, 1);

    private static async Task<bool> TickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var minutes = options.Value.SettlementIntervalMinutes;
        if (minutes <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(minutes), clock);
        while (await TickAsync(timer, stoppingToken))
        {
            try
            {
                var yesterday = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-1);
                var notes = await grains.Ref<ISettlementGrain>(0).GenerateCreditNotesAsync(null, s_epoch, yesterday, Actor.System);
                if (notes.Length > 0)
                {
                    logger.LogInformation("Scheduled settlement issued {Count} credit notes", notes.Length);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Scheduled settlement failed; the next tick tries again");
            }
        }
    }
}
