using System.Diagnostics;
using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.Grains.Events;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

[Collection(LossyPipelineCollection.Name)]
public sealed class RelayStaggerTests(LossyPipelineFixture fixture)
{
    /// <summary>
    /// The partitions of one relay read reach their consumers spread over the poll interval, in partition order, a
    /// quarter of 250 ms apart with four partitions. Published at once, their transactions all landed on PostgreSQL
    /// in the same moment, and that burst set the redemptions' p99. Nothing is lost by spreading them: every consumer
    /// still ends with every event once.
    /// </summary>
    [Fact]
    public async Task OneReadsPartitionsArriveSpreadOverThePollInterval()
    {
        var partitions = await TestPostgres.ScalarAsync<int>(fixture.ConnectionString, "SELECT partitions FROM pipeline_layout");
        Assert.True(partitions >= 2, "needs at least two partitions");
        var dealers = Enumerable.Range(0, partitions).Select(DealerIn).ToArray();
        foreach (var dealer in dealers)
        {
            await fixture.PutDealerAsync(dealer);
        }

        var (campaign, code) = await fixture.CampaignWithCodeAsync(discount: 200);
        var clock = Stopwatch.StartNew();
        var arrivals = new List<(EventPosition Through, int Partition, TimeSpan At)>();
        fixture.Faults.Lose = (kind, partition, batch) =>
        {
            if (kind == nameof(AnalyticsConsumerGrain) && batch.Events.Any(e => e.CampaignId == campaign))
            {
                lock (arrivals)
                {
                    arrivals.Add((batch.Through, partition, clock.Elapsed));
                }
            }

            return false;
        };

        // One redemption per partition at once; they usually fall into one relay read. Rarely a read cuts through
        // them, so try a few bursts until one read carried at least three partitions.
        List<(EventPosition Through, int Partition, TimeSpan At)>? read = null;
        var redeemed = 0;
        try
        {
            for (var burst = 0; burst < 5 && read is null; burst++)
            {
                await Task.WhenAll(dealers.Select(d => fixture.RedeemAsync(fixture.Admin, code, d)));
                redeemed++;
                await fixture.WaitForEmptyOutboxAsync(TimeSpan.FromSeconds(30));
                lock (arrivals)
                {
                    read = arrivals.GroupBy(a => a.Through).Select(g => g.OrderBy(a => a.At).ToList())
                        .FirstOrDefault(g => g.Count >= Math.Min(3, partitions));
                }
            }
        }
        finally
        {
            fixture.Faults.Lose = null;
        }

        Assert.NotNull(read);
        var slot = TimeSpan.FromMilliseconds(250.0 / partitions);
        var spread = read[^1].At - read[0].At;
        Assert.True(spread >= (read.Count - 1) * slot * 0.5,
            $"{read.Count} partitions of one read arrived within {spread.TotalMilliseconds:F0} ms; spread over the poll interval they take at least {((read.Count - 1) * slot * 0.5).TotalMilliseconds:F0} ms");
        Assert.Equal(read.Select(a => a.Partition).Order(), read.Select(a => a.Partition));

        var totals = await Pipeline.TotalsAsync(fixture.ConnectionString, campaign);
        foreach (var dealer in dealers)
        {
            Assert.Equal(((long)redeemed, redeemed * 200L), totals[0][dealer]);
        }

        Assert.Equal(totals[0], totals[1]);
        Assert.Equal(totals[0], totals[2]);

        string DealerIn(int partition)
        {
            for (var i = 0; ; i++)
            {
                var dealer = $"D-STAGGER-{Guid.NewGuid().ToString("N")[..6]}-{i}";
                if (PipelineNames.Partition(dealer, partitions) == partition)
                {
                    return dealer;
                }
            }
        }
    }
}
