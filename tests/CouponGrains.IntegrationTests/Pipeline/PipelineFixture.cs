using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Settlement;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>A silo on its own database for the pipeline tests (no scheduled settlement: the tests run it).</summary>
public class PipelineFixture : ApiFixture
{
    protected override void Configure(IDictionary<string, string?> settings)
    {
        settings["Pipeline__SettlementIntervalMinutes"] = "0";
    }

    /// <summary>Waits until the relay has deleted every outbox row, i.e. every consumer applied every event.</summary>
    public Task WaitForEmptyOutboxAsync(TimeSpan? timeout = null) => Pipeline.WaitForEmptyOutboxAsync(ConnectionString, timeout);

    /// <summary>An active campaign with a fixed discount and a named (public) code; returns both.</summary>
    public async Task<(string Campaign, string Code)> CampaignWithCodeAsync(long discount = 1000)
    {
        var campaign = await CreateActiveCampaignAsync(discount: new { type = "fixed", amount = discount },
            caps: new { perCustomerRedemptions = 1_000_000 });
        return (campaign, await NamedCodeAsync(campaign));
    }

    public async Task<string> RedeemAsync(HttpClient client, string code, string dealerId, string? customerId = null)
    {
        var response = await client.SendAsync(Redeem(Order(code, dealerId, customerId: customerId ?? "C-" + Guid.NewGuid().ToString("N")[..8])));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public async Task InvoiceAsync(HttpClient client, string redemptionId, string invoiceNumber, DateOnly date)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/redemptions/{redemptionId}/invoice",
            new { invoiceNumber, invoiceDate = date.ToString("yyyy-MM-dd") });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Hands events to every consumer grain of their partition again, as a relay starting over (or a stream delivering
    /// twice) would: at positions every consumer of the partition has passed. Returns how many the consumers together
    /// found new.
    /// </summary>
    public async Task<int> RedeliverAsync(IReadOnlyList<RedemptionEvent> events)
    {
        var partitions = await TestPostgres.ScalarAsync<int>(ConnectionString, "SELECT partitions FROM pipeline_layout");
        var fresh = 0;
        foreach (var group in events.GroupBy(e => PipelineNames.Partition(e.DealerId, partitions)))
        {
            var offset = await SlowestOffsetAsync(group.Key);
            var positioned = group.Select((e, i) => e with { Tx = 1, Seq = i + 1 }).ToArray();
            Assert.True(offset > positioned[^1].Position, $"partition {group.Key} stands at {offset}, before the redelivered events");
            fresh += await ApplyEverywhereAsync(group.Key, new RedemptionEventBatch(positioned, EventPosition.Start, offset));
        }

        return fresh;
    }

    /// <summary>Hands one batch straight to the three consumer grains of a partition; returns how many they found new.</summary>
    public async Task<int> ApplyEverywhereAsync(int partition, RedemptionEventBatch batch)
    {
        var grains = Services.GetRequiredService<IGrainFactory>();
        var key = partition.ToString(CultureInfo.InvariantCulture);
        return await grains.GetGrain<IFraudConsumerGrain>(key).ApplyAsync(batch)
               + await grains.GetGrain<ISettlementConsumerGrain>(key).ApplyAsync(batch)
               + await grains.GetGrain<IAnalyticsConsumerGrain>(key).ApplyAsync(batch);
    }

    /// <summary>The offset of a partition's slowest consumer.</summary>
    public async Task<EventPosition> SlowestOffsetAsync(int partition)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT tx, seq FROM pipeline_offsets WHERE part = @p AND consumer = ANY(@c) ORDER BY tx, seq LIMIT 1", connection);
        command.Parameters.AddWithValue("p", partition);
        command.Parameters.AddWithValue("c", PipelineNames.Consumers);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no offsets for partition {partition}");
        return new EventPosition(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task ReverseAsync(HttpClient client, string redemptionId)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/redemptions/{redemptionId}/reversal", new { reason = "returned" });
        response.EnsureSuccessStatusCode();
    }
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "pipeline";
}

/// <summary>
/// A pipeline silo whose relay sends a stalled consumer its partition again after 2 s instead of 30 s, and whose
/// consumers lose the batches <see cref="Faults"/> picks, for the tests that lose batches on purpose (they share
/// this one collection and run one at a time).
/// </summary>
public sealed class LossyPipelineFixture : PipelineFixture
{
    public LosingDeliveries Faults { get; } = new();

    protected override void Configure(IDictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Pipeline__StalledAfterSeconds"] = "2";
    }

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IDeliveryFaults>(Faults);
}

/// <summary>Loses a delivered batch when <see cref="Lose"/> is set and says so; nothing otherwise.</summary>
public sealed class LosingDeliveries : IDeliveryFaults
{
    public Func<string, int, RedemptionEventBatch, bool>? Lose { get; set; }

    bool IDeliveryFaults.Lose(string consumerKind, int partition, RedemptionEventBatch batch) =>
        Lose?.Invoke(consumerKind, partition, batch) == true;
}

[CollectionDefinition(Name)]
public sealed class LossyPipelineCollection : ICollectionFixture<LossyPipelineFixture>
{
    public const string Name = "pipeline-lossy";
}

/// <summary>
/// The pipeline's throughput test, on a silo of its own and after every other collection: it asserts that the
/// pipeline keeps up with a rate, which a 2-core box cannot show while the cluster and crash tests run beside it
/// (the test's own sender then fell to 114 of its 200 redemptions a second).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipelineThroughputCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "pipeline-throughput";
}

public static class Pipeline
{
    public static async Task WaitForEmptyOutboxAsync(string connectionString, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var left = await TestPostgres.ScalarAsync<long>(connectionString, "SELECT count(*) FROM outbox");
            if (left == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{left} outbox rows were still not applied by every consumer.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Per campaign and dealer: (count, discount) by the ledger, analytics and settlement; must all agree.</summary>
    public static async Task<Dictionary<string, (long Count, long Amount)>[]> TotalsAsync(string connectionString, string campaignId)
    {
        var queries = new[]
        {
            "SELECT dealer_id, count(*), sum(discount)::bigint FROM redemptions WHERE campaign_id = @c AND status <> 'aborted' GROUP BY dealer_id",
            "SELECT dealer_id, sum(redemptions)::bigint, sum(discount)::bigint FROM analytics_daily WHERE campaign_id = @c GROUP BY dealer_id",
            "SELECT dealer_id, count(*), sum(amount)::bigint FROM settlement_items WHERE campaign_id = @c AND committed GROUP BY dealer_id",
            "SELECT dealer_id, sum(reversals)::bigint, sum(reversed_discount)::bigint FROM analytics_daily WHERE campaign_id = @c GROUP BY dealer_id",
            "SELECT dealer_id, count(*) FILTER (WHERE reversed_amount > 0), sum(reversed_amount)::bigint FROM settlement_items WHERE campaign_id = @c GROUP BY dealer_id",
        };
        var results = new List<Dictionary<string, (long, long)>>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in queries)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("c", campaignId);
            var map = new Dictionary<string, (long, long)>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                map[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }

            results.Add(map);
        }

        return results.ToArray();
    }
}
