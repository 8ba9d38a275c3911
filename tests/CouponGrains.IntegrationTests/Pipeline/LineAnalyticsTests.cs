using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Analytics;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>Per-SKU and per-category analytics against what the ledger says each line bought and brought back.</summary>
[Collection(PipelineCollection.Name)]
public sealed class LineAnalyticsTests(PipelineFixture fixture)
{
    private sealed record Line(string Sku, string? Category, long Quantity, long UnitPrice, long? UnitCost);

    /// <summary>Net figures of a group of ledger lines, worked out here from the ledger's own line records.</summary>
    private sealed record Expected(long NetUnits, long NetRevenue, long NetDiscount, long CostedRevenue, long CostedDiscount, long Cost)
    {
        public long MarginBefore => CostedRevenue - Cost;
        public long MarginAfter => CostedRevenue - CostedDiscount - Cost;
    }

    private async Task<string> RedeemAsync(string code, string dealer, params Line[] lines)
    {
        var order = new
        {
            code,
            dealerId = dealer,
            orderId = "SO-" + Guid.NewGuid().ToString("N")[..10],
            region = "west",
            customer = new { id = "C-" + Guid.NewGuid().ToString("N")[..8], tags = Array.Empty<string>() },
            lines = lines.Select(l => new { sku = l.Sku, category = l.Category, quantity = l.Quantity, unitPrice = l.UnitPrice, unitCost = l.UnitCost }),
        };
        var response = await fixture.Admin.SendAsync(ApiFixture.Redeem(order));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task ReturnAsync(string redemptionId, params (int Line, long Quantity)[] lines)
    {
        var response = await fixture.Admin.PostAsJsonAsync($"/api/v1/redemptions/{redemptionId}/reversal",
            new { reason = "returned", lines = lines.Select(l => new { line = l.Line, quantity = l.Quantity }) });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Expected figures per SKU or category, from the ledger's line records of the campaign (jsonb).</summary>
    private async Task<Dictionary<string, Expected>> LedgerAsync(string campaign, string groupBy)
    {
        var key = groupBy == "sku" ? "l->>'sku'" : "COALESCE(NULLIF(l->>'category', ''), 'unknown')";
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""
            SELECT {key}, (l->>'quantity')::bigint, (l->>'unitPrice')::bigint, (l->>'unitCost')::bigint, (l->>'discount')::bigint,
                   (l->>'returnedQuantity')::bigint, (l->>'restoredDiscount')::bigint
            FROM redemptions r CROSS JOIN LATERAL jsonb_array_elements(r.lines) l
            WHERE r.campaign_id = @c AND r.status <> 'aborted'
            """, connection);
        command.Parameters.AddWithValue("c", campaign);
        var expected = new Dictionary<string, Expected>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var units = reader.GetInt64(1) - reader.GetInt64(5);
            var price = reader.GetInt64(2);
            long? cost = reader.IsDBNull(3) ? null : reader.GetInt64(3);
            var discount = reader.GetInt64(4) - reader.GetInt64(6);
            var line = new Expected(units, units * price, discount, cost is null ? 0 : units * price, cost is null ? 0 : discount, units * (cost ?? 0));
            var sum = expected.GetValueOrDefault(reader.GetString(0)) ?? new Expected(0, 0, 0, 0, 0, 0);
            expected[reader.GetString(0)] = new Expected(sum.NetUnits + line.NetUnits, sum.NetRevenue + line.NetRevenue, sum.NetDiscount + line.NetDiscount,
                sum.CostedRevenue + line.CostedRevenue, sum.CostedDiscount + line.CostedDiscount, sum.Cost + line.Cost);
        }

        return expected;
    }

    private async Task<Dictionary<string, JsonObject>> ApiAsync(string campaign, string groupBy)
    {
        var rows = (await fixture.Admin.GetFromJsonAsync<JsonArray>($"/api/v1/analytics/redemptions?groupBy={groupBy}&campaignId={campaign}"))!;
        return rows.Select(r => r!.AsObject()).ToDictionary(r => r["key"]!.GetValue<string>());
    }

    private static long L(JsonObject row, string name) => row[name]!.GetValue<long>();

    private static void AssertAgrees(Dictionary<string, Expected> ledger, Dictionary<string, JsonObject> api)
    {
        Assert.Equal(ledger.Keys.Order(), api.Keys.Order());
        foreach (var (key, e) in ledger)
        {
            var row = api[key];
            Assert.Equal((key, e.NetUnits, e.NetRevenue, e.NetDiscount, -e.NetDiscount, e.Cost),
                (key, L(row, "netUnits"), L(row, "netRevenue"), L(row, "netDiscount"), L(row, "marginImpact"), L(row, "cost")));
            Assert.Equal(e.CostedRevenue, L(row, "costedRevenue"));
            Assert.Equal(e.NetRevenue - e.CostedRevenue, L(row, "uncostedRevenue"));
            if (e.CostedRevenue > 0)
            {
                Assert.Equal(e.MarginBefore, L(row, "marginBeforeDiscount"));
                Assert.Equal(e.MarginAfter, L(row, "marginAfterDiscount"));
                Assert.Equal(e.MarginAfter * 10_000 / (e.CostedRevenue - e.CostedDiscount), L(row, "grossMarginBps"));
            }
        }
    }

    [Fact]
    public async Task PerSkuAndCategoryFiguresMatchTheLedgerThroughReturnsAndRedelivery()
    {
        var dealer = "D-LA-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer, tier: "service_center", region: "south");
        var campaign = await fixture.CreateActiveCampaignAsync(discount: new { type = "percent", percent = 10, maxAmount = 100_000_000 });
        var code = await fixture.NamedCodeAsync(campaign);

        var a = await RedeemAsync(code, dealer,
            new Line("BP-220", "brakes", 4, 185_000, 131_000), new Line("OF-10", "filters", 7, 3_333, null), new Line("SP-1", null, 3, 12_345, 9_000));
        var b = await RedeemAsync(code, dealer, new Line("BP-220", "brakes", 2, 190_000, 131_000), new Line("WB-5", "wipers", 5, 4_999, null));
        await RedeemAsync(code, dealer, new Line("OF-10", "filters", 3, 3_333, 2_000), new Line("BP-220", "brakes", 1, 185_000, 140_000));
        await ReturnAsync(a, (0, 1), (1, 3));
        await ReturnAsync(a, (0, 2));
        await fixture.ReverseAsync(fixture.Admin, b);
        await fixture.WaitForEmptyOutboxAsync();

        var bySku = await LedgerAsync(campaign, "sku");
        var byCategory = await LedgerAsync(campaign, "category");
        // The ledger agrees with the requests: 7 brake pads bought, 3 returned from the first order and 2 by the reversal.
        Assert.Equal(7 - 3 - 2, bySku["BP-220"].NetUnits);
        Assert.Equal(10 - 3, bySku["OF-10"].NetUnits);
        Assert.Equal(0, bySku["WB-5"].NetUnits);
        Assert.Equal(0, bySku["WB-5"].NetDiscount);
        Assert.Equal(["brakes", "filters", "unknown", "wipers"], byCategory.Keys.Order());

        AssertAgrees(bySku, await ApiAsync(campaign, "sku"));
        AssertAgrees(byCategory, await ApiAsync(campaign, "category"));

        // By campaign, the daily figures and the line figures describe the same redemptions.
        var total = Assert.Single(await ApiAsync(campaign, "campaign")).Value;
        var net = await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT sum(discount - reversed_discount)::bigint FROM redemptions WHERE campaign_id = @c AND status <> 'aborted'", ("c", campaign));
        Assert.Equal(net, L(total, "netDiscount"));
        Assert.Equal(net, bySku.Values.Sum(e => e.NetDiscount));
        Assert.Equal(bySku.Values.Sum(e => e.NetUnits), L(total, "netUnits"));
        Assert.Equal(bySku.Values.Sum(e => e.MarginAfter), L(total, "marginAfterDiscount"));
        Assert.Equal("south/service_center", await TestPostgres.ScalarAsync<string>(fixture.ConnectionString,
            "SELECT DISTINCT region || '/' || channel_tier FROM analytics_lines WHERE campaign_id = @c", ("c", campaign)));
        Assert.Equal(bySku["SP-1"].MarginAfter, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT sum(margin_after_discount)::bigint FROM analytics_margin WHERE campaign_id = @c AND sku = 'SP-1'", ("c", campaign)));

        var csv = await fixture.Admin.GetStringAsync($"/api/v1/analytics/redemptions?groupBy=sku&campaignId={campaign}&format=csv");
        var csvLines = csv.TrimEnd('\n').Split('\n');
        Assert.StartsWith("sku,currency,", csvLines[0]);
        Assert.Contains("gross_margin_bps", csvLines[0]);
        Assert.Equal(bySku.Count + 1, csvLines.Length);

        // Every consumer handed the campaign's events again, with lines that would change the figures if applied: nothing is new.
        var before = await SkuTotalsAsync(campaign);
        var line = new RedemptionEventLine { Sku = "BP-220", Category = "brakes", Quantity = 4, UnitPrice = 185_000, UnitCost = 131_000, Discount = 74_000 };
        var replay = new RedemptionEvent
        {
            EventId = $"{a}:committed", RedemptionId = a, Type = RedemptionEventType.Committed, CampaignId = campaign, DealerId = dealer,
            Code = code, Currency = "INR", RedeemedAt = DateTimeOffset.UtcNow, Lines = [line],
        };
        Assert.Equal(0, await fixture.RedeliverAsync([replay, replay with { EventId = $"{a}:reversed:1", Type = RedemptionEventType.Reversed }]));
        Assert.Equal(before, await SkuTotalsAsync(campaign));
        AssertAgrees(bySku, await ApiAsync(campaign, "sku"));
    }

    /// <summary>Every stored figure of the campaign's analytics_lines rows, one string per row.</summary>
    private async Task<string[]> SkuTotalsAsync(string campaign)
    {
        var rows = new List<string>();
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT l::text FROM analytics_lines l WHERE campaign_id = @c ORDER BY sku, category, dealer_id, day", connection);
        command.Parameters.AddWithValue("c", campaign);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows.ToArray();
    }
}
