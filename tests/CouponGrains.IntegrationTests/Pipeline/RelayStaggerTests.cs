using System.Diagnostics;
using CouponGrains.Contracts.Events;
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
        // Every consumer's arrivals: one that is still applying an earlier batch takes the next one late, so a
        // partition's arrival is the earliest of its consumers'.
        fixture.Faults.Lose = (kind, partition, batch) =>
        {
            if (batch.Events.Any(e => e.CampaignId == campaign))
            {
                lock (arrivals)
                {
                    arrivals.Add((batch.Through, partition, clock.Elapsed));
                }
            }

            return false;
        };

        // One redemption per partition at once; they usually fall into one relay read. A read can cut through them,
        // and a delivery can come late (the streams' agents poll every 20 ms, a consumer still applying an earlier
        // batch takes the next one after it, a replay after a lost batch of the other tests in this collection goes
        // out at once), so try a few bursts until one read of at least three partitions shows the spread. Published at
        // once, no read ever does.
        var slot = TimeSpan.FromMilliseconds(250.0 / partitions);
        var seen = new List<string>();
        var spreadOut = false;
        var redeemed = 0;
        try
        {
            for (var burst = 0; burst < 6 && !spreadOut; burst++)
            {
                await Task.WhenAll(dealers.Select(d => fixture.RedeemAsync(fixture.Admin, code, d)));
                redeemed++;
                await fixture.WaitForEmptyOutboxAsync(TimeSpan.FromSeconds(30));
                List<List<(EventPosition Through, int Partition, TimeSpan At)>> reads;
                lock (arrivals)
                {
                    reads = arrivals.GroupBy(a => a.Through)
                        .Select(g => g.GroupBy(a => a.Partition).Select(p => p.MinBy(a => a.At)).OrderBy(a => a.At).ToList())
                        .Where(g => g.Count >= Math.Min(3, partitions)).ToList();
                    arrivals.Clear();
                }

                foreach (var read in reads)
                {
                    var spread = read[^1].At - read[0].At;
                    var ordered = read.Select(a => a.Partition).SequenceEqual(read.Select(a => a.Partition).Order());
                    seen.Add($"partitions {string.Join(",", read.Select(a => a.Partition))} within {spread.TotalMilliseconds:F0} ms");
                    spreadOut |= ordered && spread >= (read.Count - 1) * slot * 0.5;
                }
            }
        }
        finally
        {
            fixture.Faults.Lose = null;
        }

        Assert.True(spreadOut,
            $"no read's partitions arrived in partition order at least {(slot * 0.5).TotalMilliseconds:F0} ms apart each: {string.Join("; ", seen)}");

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
