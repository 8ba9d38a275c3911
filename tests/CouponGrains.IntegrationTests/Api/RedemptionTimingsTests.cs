using System.Globalization;
using System.Net;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>
/// The redemption path's stage histograms on <c>/metrics</c>: the holds, the wait for the ledger and the ledger's
/// batches. Every silo in this test process records on a meter of the product's one name, and the exporter may show
/// another silo's samples too; so these tests assert only growth that this test's own redemptions must cause.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class RedemptionTimingsTests(ApiFixture api)
{
    private const string Holds = "coupongrains_redemption_holds_duration_seconds";
    private const string Append = "coupongrains_ledger_append_duration_seconds";
    private const string Batch = "coupongrains_ledger_batch_duration_seconds";

    [Fact]
    public async Task EveryRedemptionIsTimedInEachStage()
    {
        await api.PutDealerAsync("D-TIMED-1");
        var code = await api.NamedCodeAsync(await api.CreateActiveCampaignAsync());
        var before = await ScrapeAsync();
        for (var i = 0; i < 3; i++)
        {
            var created = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-TIMED-1", orderId: $"SO-TIMED-{i}")));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await GrowsAsync(before, s => Count(s, Holds), 3, "the holds of three redemptions were not all timed");
        await GrowsAsync(before, s => Count(s, Append), 3, "the ledger appends of three redemptions were not all timed");
        await GrowsAsync(before, s => Count(s, Batch), 1, "no ledger batch was timed");
    }

    /// <summary>
    /// A batch kept waiting on its campaign's fence lock: the redemption's wait for the ledger and its batch's duration
    /// both take that long.
    /// </summary>
    [Fact]
    public async Task ABatchKeptWaitingShowsInBothLedgerStages()
    {
        await api.PutDealerAsync("D-TIMED-2");
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-TIMED-2", orderId: "SO-TIMED-FIRST")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        var before = await ScrapeAsync();
        await using (var holder = await FenceHolder.HoldAsync(api.ConnectionString, campaign))
        {
            var held = api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-TIMED-2", orderId: "SO-TIMED-HELD")));
            await holder.WaitForBatchesAsync(1, held);
            var heldSince = DateTime.UtcNow;
            while (DateTime.UtcNow - heldSince < TimeSpan.FromMilliseconds(600))
            {
                Assert.False(held.IsCompleted, "the redemption was answered while its batch was held");
                await Task.Delay(50);
            }

            await holder.ReleaseAsync();
            Assert.Equal(HttpStatusCode.Created, (await held).StatusCode);
        }

        await GrowsAsync(before, s => Slower(s, Append, 0.5), 1, "no ledger append took the half second its batch was held");
        await GrowsAsync(before, s => Slower(s, Batch, 0.5), 1, "no ledger batch took the half second it was held");
        await GrowsAsync(before, s => Count(s, Holds), 1, "the held redemption's holds were not timed");
    }

    private Task<string> ScrapeAsync() => api.Admin.GetStringAsync("/metrics");

    /// <summary>
    /// Until a later scrape shows <paramref name="measure"/> grown by at least <paramref name="by"/> since
    /// <paramref name="before"/>. The exporter answers a scrape from its copy of the last one for a few hundred
    /// milliseconds, so a scrape right after the requests can show the figures from before them.
    /// </summary>
    private async Task GrowsAsync(string before, Func<string, double> measure, double by, string failure)
    {
        var from = measure(before);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        double now;
        while ((now = measure(await ScrapeAsync())) - from < by)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{failure} (grew by {now - from})");
            await Task.Delay(100);
        }
    }

    /// <summary>How many samples a histogram has, over every series of it.</summary>
    private static double Count(string scrape, string histogram) => Sum(scrape, histogram + "_count");

    /// <summary>How many samples of a histogram are above <paramref name="seconds"/> (a bucket bound): the count less that bucket.</summary>
    private static double Slower(string scrape, string histogram, double seconds) =>
        Count(scrape, histogram) - Sum(scrape, histogram + "_bucket", $"le=\"{seconds.ToString(CultureInfo.InvariantCulture)}\"");

    private static double Sum(string scrape, string name, string? label = null) =>
        MetricsText.Sum(scrape, line =>
            (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            && (label is null || line.Contains(label, StringComparison.Ordinal)));
}
