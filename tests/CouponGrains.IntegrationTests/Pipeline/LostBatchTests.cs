using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.Grains.Events;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

[Collection(LossyPipelineCollection.Name)]
public sealed class LostBatchTests(LossyPipelineFixture fixture)
{
    /// <summary>
    /// A batch lost on its way to one consumer (as a message between silos can be): the next batch shows the consumer
    /// the gap, it reports it, and the relay sends the partition again from its offset. Every consumer ends with every
    /// event applied once.
    /// </summary>
    [Fact]
    public async Task ABatchLostOnTheWayIsSentAgainAndAppliedOnce()
    {
        var partition = await LoseOneAnalyticsBatchAsync(redemptions: 2, discount: 300);
        Assert.False(await TestPostgres.ScalarAsync<bool>(fixture.ConnectionString,
            "SELECT gap_at IS NOT NULL FROM pipeline_offsets WHERE consumer = @c AND part = @p",
            ("c", PipelineNames.Analytics), ("p", partition)));
    }

    /// <summary>
    /// A batch lost with nothing after it on its partition, as when a consumer's activation dies with a full buffer at
    /// the end of a burst: no later batch shows the gap, so the relay sends the partition again once the consumer's
    /// offset has stood still behind it for <c>Pipeline:StalledAfterSeconds</c> (2 s here).
    /// </summary>
    [Fact]
    public Task ABatchLostWithNothingAfterItIsSentAgainWhenTheConsumerStalls() =>
        LoseOneAnalyticsBatchAsync(redemptions: 1, discount: 400);

    /// <summary>
    /// Redeems on a new campaign for a new dealer, loses the first batch of the campaign's events on its way to the
    /// analytics consumer, redeems the rest, waits until every consumer has passed every event, and checks that the
    /// ledger, analytics and settlement agree on each redemption once. Returns the partition.
    /// </summary>
    private async Task<int> LoseOneAnalyticsBatchAsync(int redemptions, long discount)
    {
        var dealer = "D-LOST-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var (campaign, code) = await fixture.CampaignWithCodeAsync(discount);
        var lost = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Faults.Lose = (kind, partition, batch) =>
            kind == nameof(AnalyticsConsumerGrain) && batch.Events.Any(e => e.CampaignId == campaign) && lost.TrySetResult(partition);
        int partition;
        try
        {
            await fixture.RedeemAsync(fixture.Admin, code, dealer);
            partition = await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
            for (var i = 1; i < redemptions; i++)
            {
                await fixture.RedeemAsync(fixture.Admin, code, dealer);
            }

            await fixture.WaitForEmptyOutboxAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            fixture.Faults.Lose = null;
        }

        var totals = await Pipeline.TotalsAsync(fixture.ConnectionString, campaign);
        Assert.Equal(((long)redemptions, redemptions * discount), totals[0][dealer]);
        Assert.Equal(totals[0], totals[1]);
        Assert.Equal(totals[0], totals[2]);
        return partition;
    }
}
