using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>A pipeline silo whose memory streams keep a delivered batch for about a second.</summary>
public sealed class ShortStreamCacheFixture : PipelineFixture
{
    protected override void Configure(IDictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Pipeline__StreamCacheSeconds"] = "1";
    }
}

/// <summary>
/// The stream cache's counters are read from <c>/metrics</c>, and every silo in this test process has a meter of
/// Orleans' one name, whose cache counters carry no more than a queue's id. While a second silo was alive, this one's
/// <c>/metrics</c> showed the second's counters: a probe read 1 batch added to queue pipeline-3, then 0 with another
/// pipeline silo started, then 2 once it was disposed and one more event sent. Two CI runs failed that way, with no
/// batch purged, the second with none even added, while the outbox emptied round after round. So this silo starts
/// alone, after every other collection.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StreamCacheCollection : ICollectionFixture<ShortStreamCacheFixture>
{
    public const string Name = "pipeline-stream-cache";
}

[Collection(StreamCacheCollection.Name)]
public sealed class StreamCacheTests(ShortStreamCacheFixture fixture)
{
    /// <summary>
    /// The memory streams carry the outbox's events; the outbox is what keeps them. Orleans' own default keeps every
    /// batch in the streams' cache for 30 minutes, which under load grew the silo by a megabyte a second. Here a batch
    /// must leave the cache once it is <c>Pipeline:StreamCacheSeconds</c> older than the newest, and every event must
    /// still reach every consumer. Each round waits for the outbox to empty (every consumer applied the round's
    /// event), so the rounds are at least a relay cycle apart and the oldest batches age past the second.
    /// </summary>
    [Fact]
    public async Task DeliveredBatchesLeaveTheStreamCacheAndEveryEventIsApplied()
    {
        var dealer = "D-CACHE-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var (_, code) = await fixture.CampaignWithCodeAsync(discount: 100);
        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        var rounds = 0;
        long purged;
        do
        {
            await fixture.RedeemAsync(fixture.Admin, code, dealer);
            await fixture.WaitForEmptyOutboxAsync(TimeSpan.FromSeconds(30));
            rounds++;
            purged = await StreamMetricAsync("orleans_streams_queue_cache_messages_purged");
        }
        while (purged == 0 && DateTime.UtcNow < giveUpAt);

        var added = await StreamMetricAsync("orleans_streams_queue_cache_messages_added");
        Assert.True(purged > 0, $"no batch left the stream cache in {rounds} rounds ({added} added to it)");
        Assert.True(added > purged, $"{purged} batches purged of {added} added: the newest must stay");
    }

    /// <summary>The sum over the silo's stream queues of one of Orleans' cache counters, from <c>/metrics</c>.</summary>
    private async Task<long> StreamMetricAsync(string name)
    {
        var text = await fixture.Admin.GetStringAsync("/metrics");
        return (long)MetricsText.Sum(text, line => line.StartsWith(name, StringComparison.Ordinal));
    }
}
