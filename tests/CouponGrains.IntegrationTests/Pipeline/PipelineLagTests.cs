using System.Diagnostics;
using System.Globalization;
using System.Net;
using CouponGrains.IntegrationTests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>
/// Redeems at a steady rate (PIPELINE_LAG_RATE per second, default 500, for PIPELINE_LAG_SECONDS, default 20) and
/// measures the lag from a redemption's time (taken just before its ledger commit) to fraud scoring writing its observation (in the transaction that applies it),
/// and the outbox backlog (sampled every 250 ms).
/// </summary>
[Collection(PipelineThroughputCollection.Name)]
public sealed class PipelineLagTests(PipelineFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task ThePipelineKeepsUpWithASteadyRedemptionRate()
    {
        var rate = int.Parse(Environment.GetEnvironmentVariable("PIPELINE_LAG_RATE") ?? "200", CultureInfo.InvariantCulture);
        var seconds = int.Parse(Environment.GetEnvironmentVariable("PIPELINE_LAG_SECONDS") ?? "20", CultureInfo.InvariantCulture);
        var dealers = Enumerable.Range(0, 20).Select(i => $"D-LAG-{Guid.NewGuid().ToString("N")[..4]}-{i}").ToArray();
        foreach (var dealer in dealers)
        {
            await fixture.PutDealerAsync(dealer);
        }

        var (campaign, code) = await fixture.CampaignWithCodeAsync(discount: 300);
        using var client = fixture.Client(ApiFixture.AdminKey);
        // Warm up: the first events activate the consumers and open their connections.
        for (var i = 0; i < 20; i++)
        {
            await fixture.RedeemAsync(client, code, dealers[i % dealers.Length]);
        }

        await fixture.WaitForEmptyOutboxAsync();
        var since = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var total = rate * seconds;
        var inFlight = new List<Task<HttpResponseMessage>>();
        var maxBacklog = 0L;
        var sampler = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString);
            await connection.OpenAsync();
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await using var command = new NpgsqlCommand("SELECT count(*) FROM outbox", connection);
                maxBacklog = Math.Max(maxBacklog, (long)(await command.ExecuteScalarAsync())!);
                await Task.Delay(250);
            }
        });
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            inFlight.Add(client.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, dealers[i % dealers.Length], customerId: $"C-{i % 97}"))));
        }

        var responses = await Task.WhenAll(inFlight);
        var sent = clock.Elapsed;
        await sampler;
        var backlogAtEnd = await TestPostgres.ScalarAsync<long>(fixture.ConnectionString, "SELECT count(*) FROM outbox");
        var drain = Stopwatch.StartNew();
        await fixture.WaitForEmptyOutboxAsync(TimeSpan.FromSeconds(120));
        drain.Stop();
        var created = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        await using var db = new NpgsqlConnection(fixture.ConnectionString);
        await db.OpenAsync();
        await using var lag = new NpgsqlCommand(
            """
            SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY ms), percentile_disc(0.99) WITHIN GROUP (ORDER BY ms), max(ms)
            FROM (SELECT extract(epoch FROM f.observed_at - r.redeemed_at) * 1000 AS ms
                  FROM redemptions r JOIN fraud_observations f ON f.redemption_id = r.id
                  WHERE r.campaign_id = @c AND r.redeemed_at >= @since) x
            """, db);
        lag.Parameters.AddWithValue("c", campaign);
        lag.Parameters.AddWithValue("since", since);
        await using var reader = await lag.ExecuteReaderAsync();
        await reader.ReadAsync();
        var applied = reader.GetInt64(0);
        output.WriteLine(
            $"rate {rate}/s for {seconds} s: {created} redeemed in {sent.TotalSeconds:F1} s ({created / sent.TotalSeconds:F0}/s); " +
            $"fraud scoring lag p50 {reader.GetDecimal(1):F0} ms, p99 {reader.GetDecimal(2):F0} ms, max {reader.GetDecimal(3):F0} ms; max outbox backlog {maxBacklog}, {backlogAtEnd} at the end, drained in {drain.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(created, applied);
        // Bounded: the backlog stays under ten seconds of load and is gone within half a minute of the load stopping.
        // The default rate is one this 2-core box sustains with the suite's build and PostgreSQL beside it (the test runs
        // after the other collections); above about 500/s the pipeline falls behind here (see the README), so higher
        // rates are for measuring, not for CI.
        Assert.True(maxBacklog < rate * 10, $"outbox backlog reached {maxBacklog}");
        Assert.True(drain.Elapsed < TimeSpan.FromSeconds(30), $"the outbox took {drain.Elapsed} to drain");
    }
}
