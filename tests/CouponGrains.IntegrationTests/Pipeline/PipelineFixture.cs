using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;
using Npgsql;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>A silo on its own database for the pipeline tests (no scheduled settlement: the tests run it).</summary>
public sealed class PipelineFixture : ApiFixture
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
