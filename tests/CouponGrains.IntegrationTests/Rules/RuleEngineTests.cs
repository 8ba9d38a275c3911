using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Caps;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Rules;

/// <summary>The rule engine's kinds, stacking, period caps and partial returns, end to end through the API.</summary>
[Collection(ApiCollection.Name)]
public sealed class RuleEngineTests(ApiFixture api)
{
    private static object Campaign(string kind, object discount, object? caps = null, object[]? periodCaps = null,
        string stacking = "combinable", object? warranty = null, object? bundle = null, object? eligibility = null) => new
    {
        name = $"{kind} test",
        kind,
        currency = "INR",
        budget = 100_000_000L,
        validFrom = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ss"),
        validUntil = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ss"),
        timeZone = "Asia/Kolkata",
        discount,
        eligibility = eligibility ?? new { },
        caps = caps ?? new { },
        periodCaps = periodCaps ?? [],
        stacking,
        warranty,
        bundle,
    };

    private Task<string> ActiveAsync(object definition) => api.CreateCampaignAsync(definition);

    private static object TwoLineOrder(string code, string dealerId, string? orderId = null) => new
    {
        code,
        dealerId,
        orderId = orderId ?? "SO-" + Guid.NewGuid().ToString("N")[..10],
        lines = new object[]
        {
            new { sku = "BP-220", category = "brakes", quantity = 3, unitPrice = 10_001L },
            new { sku = "OF-110", category = "filters", quantity = 7, unitPrice = 3_333L },
        },
    };

    private async Task<JsonObject> RedeemedAsync(object order)
    {
        var response = await api.Admin.SendAsync(ApiFixture.Redeem(order));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task TheDiscountSplitsOverTheLinesToTheExactMinorUnit()
    {
        await api.PutDealerAsync("D-SPLIT");
        var campaign = await ActiveAsync(Campaign("dealer_promo", new { type = "percent", percent = 7.5m }));
        var code = await api.NamedCodeAsync(campaign);

        var redemption = await RedeemedAsync(TwoLineOrder(code, "D-SPLIT"));

        var lines = redemption["lines"]!.AsArray();
        Assert.Equal(2, lines.Count);
        var discount = redemption["discount"]!.GetValue<long>();
        Assert.Equal((30_003 + 23_331) * 75 / 1000, discount);
        Assert.Equal(discount, lines.Sum(l => l!["discount"]!.GetValue<long>()));
        Assert.All(lines, l => Assert.True(l!["discount"]!.GetValue<long>() > 0));
    }

    [Fact]
    public async Task PartialReturnsGiveBackMoneyInProportionAndTheCountOnlyWithTheLastUnit()
    {
        await api.PutDealerAsync("D-RETURN");
        var campaign = await ActiveAsync(Campaign("dealer_promo", new { type = "percent", percent = 10 },
            caps: new { perDealerAmount = 1_000_000 }));
        var code = await api.NamedCodeAsync(campaign, maxUses: 1);
        var redemption = await RedeemedAsync(TwoLineOrder(code, "D-RETURN"));
        var id = redemption["id"]!.GetValue<string>();
        var discount = redemption["discount"]!.GetValue<long>();
        var firstLine = redemption["lines"]![0]!["discount"]!.GetValue<long>();

        var partial = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal",
            new { reason = "one pad set returned", lines = new[] { new { line = 0, quantity = 1 } } });

        Assert.Equal(HttpStatusCode.OK, partial.StatusCode);
        var afterPartial = (await partial.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("committed", afterPartial["status"]!.GetValue<string>());
        Assert.Equal(firstLine / 3, afterPartial["reversedDiscount"]!.GetValue<long>());
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(discount - firstLine / 3, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(1, view["redemptionCount"]!.GetValue<long>());
        Assert.Equal(1, (await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}"))!["uses"]!.GetValue<long>());

        var tooMany = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal",
            new { reason = "more than bought", lines = new[] { new { line = 0, quantity = 3 } } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany.StatusCode);
        Assert.Equal("invalid_return", await ApiFixture.CodeOf(tooMany));

        var rest = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "order cancelled" });

        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        var reversed = (await rest.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("reversed", reversed["status"]!.GetValue<string>());
        Assert.Equal(discount, reversed["reversedDiscount"]!.GetValue<long>());
        Assert.Equal(2, reversed["reversals"]!.GetValue<int>());
        view = await api.CampaignAsync(campaign);
        Assert.Equal(0, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["redemptionCount"]!.GetValue<long>());
        Assert.Equal(0, (await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}"))!["uses"]!.GetValue<long>());
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT COALESCE(sum(discount - reversed_discount), 0)::bigint FROM redemptions WHERE campaign_id = @c AND status <> 'aborted'",
            ("c", campaign)));
        Assert.Equal(2L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM audit_log WHERE entity_type = 'redemption' AND entity_id = @id AND action IN ('partially_returned', 'reversed')",
            ("id", id)));
    }

    [Fact]
    public async Task PerDayCapsHoldForTheDealerAndTheCampaign()
    {
        await api.PutDealerAsync("D-DAY-1");
        await api.PutDealerAsync("D-DAY-2");
        await api.PutDealerAsync("D-DAY-3");
        var campaign = await ActiveAsync(Campaign("dealer_promo", new { type = "fixed", amount = 1000 }, periodCaps:
        [
            new { period = "day", measure = "count", scope = "dealer", limit = 2 },
            new { period = "day", measure = "amount", scope = "campaign", limit = 3500 },
        ]));
        var code = await api.NamedCodeAsync(campaign);

        // Concurrent attempts by one dealer: exactly two fit its day.
        var dealerOne = await Task.WhenAll(Enumerable.Range(0, 6)
            .Select(_ => api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-DAY-1", unitPrice: 50_000)))));
        Assert.Equal(2, dealerOne.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refused = dealerOne.First(r => r.StatusCode != HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("period_cap_reached", await ApiFixture.CodeOf(refused));

        // The campaign's day allows 3,500: one more redemption of 1,000, then nothing.
        Assert.Equal(HttpStatusCode.Created, (await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-DAY-2", unitPrice: 50_000)))).StatusCode);
        var overCampaign = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-DAY-3", unitPrice: 50_000)));
        Assert.Equal("period_cap_reached", await ApiFixture.CodeOf(overCampaign));
        Assert.Equal(3, (await api.CampaignAsync(campaign))["redemptionCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task AWarrantyCoverIsUsedOncePerSerialAndOnlyByServiceCenters()
    {
        await api.PutDealerAsync("D-SC", tier: "service_center");
        await api.PutDealerAsync("D-NOTSC", tier: "dealer");
        var campaign = await ActiveAsync(Campaign("warranty", new { type = "percent", percent = 60 }, warranty: new { perLineCap = 5_000 }));
        var code = await api.NamedCodeAsync(campaign);
        object Claim(string dealer, string serial) => new
        {
            code,
            dealerId = dealer,
            orderId = "JC-" + Guid.NewGuid().ToString("N")[..8],
            serialNumber = serial,
            lines = new[] { new { sku = "ALT-90", quantity = 1, unitPrice = 12_000L } },
        };

        var first = await RedeemedAsync(Claim("D-SC", "SN-1001"));
        Assert.Equal(5_000, first["discount"]!.GetValue<long>());
        Assert.Equal("serial:SN-1001", first["warrantyKey"]!.GetValue<string>());

        var again = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => api.Admin.SendAsync(ApiFixture.Redeem(Claim("D-SC", "SN-1001")))));
        Assert.All(again, r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal("serial_already_used", await ApiFixture.CodeOf(again[0]));

        await RedeemedAsync(Claim("D-SC", "SN-1002"));
        var notServiceCenter = await api.Admin.SendAsync(ApiFixture.Redeem(Claim("D-NOTSC", "SN-1003")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notServiceCenter.StatusCode);
    }

    [Fact]
    public async Task AnExclusiveCodeIsAloneOnItsOrderWhicheverComesFirst()
    {
        await api.PutDealerAsync("D-STACK");
        var exclusive = await api.NamedCodeAsync(await ActiveAsync(Campaign("dealer_promo", new { type = "fixed", amount = 500 }, stacking: "exclusive")));
        var combinable = await api.NamedCodeAsync(await ActiveAsync(Campaign("dealer_promo", new { type = "fixed", amount = 300 })));
        var another = await api.NamedCodeAsync(await ActiveAsync(Campaign("dealer_promo", new { type = "fixed", amount = 200 })));

        await RedeemedAsync(TwoLineOrder(combinable, "D-STACK", "SO-STACK-1"));
        await RedeemedAsync(TwoLineOrder(another, "D-STACK", "SO-STACK-1"));
        var late = await api.Admin.SendAsync(ApiFixture.Redeem(TwoLineOrder(exclusive, "D-STACK", "SO-STACK-1")));
        Assert.Equal("not_combinable", await ApiFixture.CodeOf(late));

        await RedeemedAsync(TwoLineOrder(exclusive, "D-STACK", "SO-STACK-2"));
        var after = await api.Admin.SendAsync(ApiFixture.Redeem(TwoLineOrder(combinable, "D-STACK", "SO-STACK-2")));
        Assert.Equal("not_combinable", await ApiFixture.CodeOf(after));

        // Raced onto a fresh order: exactly one side wins.
        var race = await Task.WhenAll(
            api.Admin.SendAsync(ApiFixture.Redeem(TwoLineOrder(exclusive, "D-STACK", "SO-STACK-3"))),
            api.Admin.SendAsync(ApiFixture.Redeem(TwoLineOrder(combinable, "D-STACK", "SO-STACK-3"))));
        Assert.Equal(1, race.Count(r => r.StatusCode == HttpStatusCode.Created));

        // What a fresh activation of these orders' slots reads from the ledger, all four in one batch
        // (one statement serves both kinds of slot): codes on the order, and the exclusive ones among them.
        var ledger = api.Services.GetRequiredService<RedemptionLedger>();
        var read = await Task.WhenAll(
            ledger.TotalsAsync(CapScope.Order, CapSlot.OrdersScope, "D-STACK", "SO-STACK-1"),
            ledger.TotalsAsync(CapScope.OrderExclusive, CapSlot.OrdersScope, "D-STACK", "SO-STACK-1"),
            ledger.TotalsAsync(CapScope.Order, CapSlot.OrdersScope, "D-STACK", "SO-STACK-2"),
            ledger.TotalsAsync(CapScope.OrderExclusive, CapSlot.OrdersScope, "D-STACK", "SO-STACK-2"));
        Assert.Equal([2L, 0L, 1L, 1L], read.Select(t => t.Count));
    }

    [Fact]
    public async Task AServiceBundleNeedsAllItsPartsAndLabour()
    {
        await api.PutDealerAsync("D-BUNDLE", tier: "service_center");
        var campaign = await ActiveAsync(Campaign("service_bundle", new { type = "percent", percent = 20 },
            bundle: new { items = new object[] { new { sku = "OF-110" }, new { labourCode = "LAB-OIL" } } }));
        var code = await api.NamedCodeAsync(campaign);

        var partsOnly = await api.Admin.SendAsync(ApiFixture.Redeem(new
        {
            code, dealerId = "D-BUNDLE", orderId = "SO-B-1",
            lines = new[] { new { sku = "OF-110", quantity = 1, unitPrice = 1_000L } },
        }));
        Assert.Equal("bundle_incomplete", await ApiFixture.CodeOf(partsOnly));

        var whole = await RedeemedAsync(new
        {
            code, dealerId = "D-BUNDLE", orderId = "SO-B-2",
            lines = new object[]
            {
                new { sku = "OF-110", quantity = 1, unitPrice = 1_000L },
                new { sku = "SVC", labourCode = "LAB-OIL", kind = "labour", quantity = 1, unitPrice = 1_500L },
                new { sku = "WIPER", quantity = 1, unitPrice = 700L },
            },
        });
        Assert.Equal(500, whole["discount"]!.GetValue<long>());
        Assert.DoesNotContain(whole["lines"]!.AsArray(), l => l!["sku"]!.GetValue<string>() == "WIPER");
    }
}
