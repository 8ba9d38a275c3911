using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace CouponGrains.LoadTests;

/// <summary>
/// Redeems through the Orleans client straight at the coordinator grains, skipping HTTP, JSON and auth:
/// the engine's headroom. Joins the cluster through ADO.NET clustering on the same PostgreSQL.
/// </summary>
public sealed class GrainDriver(IHost host, IClusterClient client) : IAsyncDisposable
{
    private static readonly Actor s_actor = new("load-grain-driver", Roles.Admin, null);

    public static async Task<GrainDriver> ConnectAsync(Settings settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(orleans =>
        {
            orleans.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = "coupongrains";
            });
            orleans.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = settings.Postgres ?? throw new ArgumentException("--postgres is needed for the grain driver");
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new GrainDriver(host, host.Services.GetRequiredService<IClusterClient>());
    }

    public async Task RedeemAsync(Scenario scenario, RunStats stats, bool record, long intended, Random random, long sequence)
    {
        var (campaign, order) = scenario.NextContext(random, sequence);
        var key = $"grain-{scenario.Name}-{sequence}";
        string outcome;
        try
        {
            var result = await client.GetGrain<IRedeemGrain>(GrainKeys.RedeemShard(order.DealerId, key))
                .RedeemAsync(order.DealerId, key, order, key, s_actor);
            if (result.Redemption is { } redemption)
            {
                Interlocked.Increment(ref stats.Ok);
                outcome = result.Status.ToString();
                if (record)
                {
                    stats.Acked.Add(new Acknowledged(redemption.Id, campaign, redemption.Discount, key));
                }
            }
            else
            {
                Interlocked.Increment(ref stats.Failed);
                outcome = result.Rejection is { } r ? r.Code.ToWire() : result.Status.ToString();
                if (record && result.Status == RedeemStatus.Rejected && result.Rejection is { } refusal)
                {
                    stats.Refusals.Add(new CapRefusal(campaign, order.DealerId, order.BranchId!, refusal.Code.ToWire(), DateTime.UtcNow));
                }
            }
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref stats.Failed);
            outcome = ex.GetType().Name;
        }

        stats.Record(intended, $"grain {outcome}", kept: record);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
