using System.Data.Common;
using System.Diagnostics;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CouponGrains.Api.Observability;

/// <summary>
/// Feeds the observable instruments every <see cref="ObservabilityOptions.SampleSeconds"/>: PostgreSQL
/// round trip, outbox backlog, and the remaining budget of the campaigns this host redeemed most on
/// since the last sample (one grain read each). Nothing here runs on the request path.
/// </summary>
public sealed class DatabaseSampler(
    DbDataSource dataSource, IGrainFactory grains, CouponGrainsMetrics metrics, ObservabilityOptions options,
    ILogger<DatabaseSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.SampleSeconds)));
        do
        {
            await SampleOnceAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// The outbox's backlog and the age of its first row in position order; (0, 0) when it is empty. From that row
    /// (the primary key's first entry) and the last number the sequence gave, not a count: a count scans the whole
    /// backlog, so the gauge cost most exactly when the pipeline was furthest behind (with the relay off, 26 ms of
    /// PostgreSQL every sample after a minute at 2,700 /s). The span is close, not exact: numbers of rolled-back
    /// inserts count too, and a row numbered before the first row's (its transaction came later) does not.
    /// </summary>
    public static async Task<(long Rows, TimeSpan OldestAge)> OutboxBacklogAsync(DbDataSource dataSource, CancellationToken ct)
    {
        await using var backlog = dataSource.CreateCommand(
            """
            SELECT COALESCE((SELECT last_value FROM outbox_seq_seq) - first.seq + 1, 0),
                   COALESCE(extract(epoch FROM now() - first.at), 0)::float8
            FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT seq, at FROM outbox ORDER BY tx, seq LIMIT 1) AS first ON true
            """);
        await using var reader = await backlog.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), TimeSpan.FromSeconds(reader.GetDouble(1)));
    }

    private async Task SampleOnceAsync(CancellationToken ct)
    {
        try
        {
            var watch = Stopwatch.StartNew();
            await using (var ping = dataSource.CreateCommand("SELECT 1"))
            {
                await ping.ExecuteScalarAsync(ct);
            }

            metrics.PostgresPing(watch.Elapsed);
            if (options.SampleOutbox)
            {
                var (rows, age) = await OutboxBacklogAsync(dataSource, ct);
                metrics.OutboxBacklog(rows, age);
            }
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("Metrics sample of PostgreSQL failed: {Error}", ex.Message);
        }

        foreach (var campaign in metrics.TakeMostActiveCampaigns(Math.Max(0, options.HotCampaigns)))
        {
            try
            {
                if (await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaign)).GetAsync() is { } view)
                {
                    metrics.BudgetRemaining(campaign, view.Budget.Remaining);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogDebug("Budget sample of {CampaignId} failed: {Error}", campaign, ex.Message);
            }
        }
    }
}
