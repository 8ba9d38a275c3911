using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Rules;

/// <summary>Stacked validations, qualification, retro-rebate accrual and the goodwill approval round trip.</summary>
[Collection(ApiCollection.Name)]
public sealed class StackingAndApprovalFlowTests(ApiFixture api)
{
    private Task<string> ActiveAsync(string kind, object discount, string stacking = "combinable", int priority = 0,
        long? approvalAbove = null) =>
        api.CreateCampaignAsync(new
        {
            name = $"{kind} flow",
            kind,
            currency = "INR",
            budget = 100_000_000L,
            validFrom = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ss"),
            validUntil = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ss"),
            timeZone = "Asia/Kolkata",
            discount,
            stacking,
            priority,
            approvalAbove,
        });

    [Fact]
    public async Task AStackedValidationGivesEveryCodeAState()
    {
        await api.PutDealerAsync("D-VSTACK");
        var high = await api.NamedCodeAsync(await ActiveAsync("dealer_promo", new { type = "fixed", amount = 600 }, priority: 10));
        var low = await api.NamedCodeAsync(await ActiveAsync("dealer_promo", new { type = "fixed", amount = 400 }));
        var exclusive = await api.NamedCodeAsync(await ActiveAsync("dealer_promo", new { type = "fixed", amount = 900 }, stacking: "exclusive"));

        var response = await api.Admin.PostAsJsonAsync("/api/v1/validations", new
        {
            codes = new[] { low, exclusive, high, "NO-SUCH-CODE" },
            dealerId = "D-VSTACK",
            lines = new[] { new { sku = "BP-220", quantity = 2, unitPrice = 5_000L } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var states = body["codes"]!.AsArray().ToDictionary(c => c!["code"]!.GetValue<string>(), c => c!);
        Assert.Equal("applied", states[high]["state"]!.GetValue<string>());
        Assert.Equal("applied", states[low]["state"]!.GetValue<string>());
        Assert.Equal("rejected", states[exclusive]["state"]!.GetValue<string>());
        Assert.Equal("not_combinable", states[exclusive]["reason"]!["code"]!.GetValue<string>());
        Assert.Equal("coupon_not_found", states["NO-SUCH-CODE"]["reason"]!["code"]!.GetValue<string>());
        Assert.Equal(1_000, body["totalDiscount"]!.GetValue<long>());
    }

    [Fact]
    public async Task QualificationListsTheDealersOwnCouponsWithLiveDiscounts()
    {
        await api.PutDealerAsync("D-QUAL");
        await api.PutDealerAsync("D-QUAL-OTHER");
        var mine = await ActiveAsync("dealer_promo", new { type = "percent", percent = 10 });
        var theirs = await ActiveAsync("dealer_promo", new { type = "percent", percent = 50 });
        var myCode = await api.NamedCodeAsync(mine, dealerId: "D-QUAL");
        await api.NamedCodeAsync(theirs, dealerId: "D-QUAL-OTHER");
        var dealer = api.Client(await api.CreateKeyAsync("dealer", "D-QUAL"));

        var response = await dealer.PostAsJsonAsync("/api/v1/qualifications", new
        {
            dealerId = "D-QUAL",
            lines = new[] { new { sku = "BP-220", quantity = 1, unitPrice = 10_000L } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonArray>())!;
        var own = Assert.Single(results, r => r!["campaignId"]!.GetValue<string>() == mine);
        Assert.Equal(myCode, own!["code"]!.GetValue<string>());
        Assert.True(own["valid"]!.GetValue<bool>());
        Assert.Equal(1_000, own["discount"]!.GetValue<long>());
        Assert.DoesNotContain(results, r => r!["campaignId"]!.GetValue<string>() == theirs);
    }

    [Fact]
    public async Task AnotherDealersCodeReadsAsNoSuchCodeToADealer()
    {
        await api.PutDealerAsync("D-PROBE");
        await api.PutDealerAsync("D-PROBE-OWNER");
        var campaign = await ActiveAsync("dealer_promo", new { type = "fixed", amount = 100 });
        var theirs = await api.NamedCodeAsync(campaign, dealerId: "D-PROBE-OWNER");
        var dealer = api.Client(await api.CreateKeyAsync("dealer", "D-PROBE"));

        var notMine = await dealer.SendAsync(ApiFixture.Redeem(ApiFixture.Order(theirs, "D-PROBE")));
        var none = await dealer.SendAsync(ApiFixture.Redeem(ApiFixture.Order("NOPE-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant(), "D-PROBE")));

        Assert.Equal(none.StatusCode, notMine.StatusCode);
        Assert.Equal("coupon_not_found", await ApiFixture.CodeOf(notMine));
        Assert.Equal("coupon_not_found", await ApiFixture.CodeOf(none));
    }

    [Fact]
    public async Task AGoodwillCouponIsRedeemedOnlyWithItsApprovalForThatOrder()
    {
        await api.PutDealerAsync("D-GOODWILL");
        var campaign = await ActiveAsync("goodwill", new { type = "fixed", amount = 2_500 });
        var code = await api.NamedCodeAsync(campaign);
        var dealer = api.Client(await api.CreateKeyAsync("dealer", "D-GOODWILL"));
        object Order(long price) => new
        {
            code,
            dealerId = "D-GOODWILL",
            orderId = "SO-GW-1",
            complaintReference = "FF-2026-118",
            lines = new[] { new { sku = "PUMP-7", quantity = 1, unitPrice = price } },
        };

        var asked = await dealer.SendAsync(ApiFixture.Redeem(Order(9_000)));
        Assert.Equal("approval_required", await ApiFixture.CodeOf(asked));
        var approvalId = (await asked.Content.ReadFromJsonAsync<JsonObject>())!["approvalId"]!.GetValue<string>();

        var early = await dealer.SendAsync(ApiFixture.Redeem(WithApproval(Order(9_000), approvalId)));
        Assert.Equal("approval_required", await ApiFixture.CodeOf(early));

        var decided = await api.Finance.PostAsJsonAsync($"/api/v1/approvals/{approvalId}/decision",
            new { decision = "approve", reasonCode = "field_failure_confirmed", note = "pump seal failure" });
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);

        var otherOrder = await dealer.SendAsync(ApiFixture.Redeem(WithApproval(Order(9_500), approvalId)));
        Assert.Equal("approval_required", await ApiFixture.CodeOf(otherOrder));

        var redeemed = await dealer.SendAsync(ApiFixture.Redeem(WithApproval(Order(9_000), approvalId)));
        Assert.Equal(HttpStatusCode.Created, redeemed.StatusCode);
        Assert.Equal(2_500, (await redeemed.Content.ReadFromJsonAsync<JsonObject>())!["discount"]!.GetValue<long>());

        var reused = await dealer.SendAsync(ApiFixture.Redeem(WithApproval(Order(9_000), approvalId)));
        Assert.Equal("approval_required", await ApiFixture.CodeOf(reused));
        Assert.Equal(1, (await api.CampaignAsync(campaign))["redemptionCount"]!.GetValue<long>());
    }

    private static JsonObject WithApproval(object order, string approvalId)
    {
        var json = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(order, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)))!.AsObject();
        json["approvalId"] = approvalId;
        return json;
    }

    [Fact]
    public async Task ARetroRebateAccruesAcrossThresholdsForTheDealer()
    {
        await api.PutDealerAsync("D-RETRO");
        var campaign = await ActiveAsync("retro_rebate", new
        {
            type = "slab", basis = "order_value",
            slabs = new object[] { new { from = 0, percent = 1 }, new { from = 100_000, percent = 2 }, new { from = 300_000, percent = 3 } },
        });
        var code = await api.NamedCodeAsync(campaign);
        foreach (var price in new[] { 60_000L, 60_000L, 200_000L })
        {
            var response = await api.Admin.SendAsync(ApiFixture.Redeem(new
            {
                code, dealerId = "D-RETRO", orderId = "SO-R-" + Guid.NewGuid().ToString("N")[..6],
                lines = new[] { new { sku = "BP-220", quantity = 1, unitPrice = price } },
            }));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonObject>())!["discount"]!.GetValue<long>());
        }

        var rebate = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{campaign}/rebates/D-RETRO");

        Assert.Equal(320_000, rebate!["cumulative"]!.GetValue<long>());
        Assert.Equal(3m, rebate["percent"]!.GetValue<decimal>());
        Assert.Equal(9_600, rebate["accrued"]!.GetValue<long>());
        Assert.Null(rebate["nextThreshold"]);
    }

    [Fact]
    public async Task ADiscountAboveTheHighValueThresholdWaitsForItsApproval()
    {
        await api.PutDealerAsync("D-HIGH");
        var campaign = await ActiveAsync("dealer_promo", new { type = "percent", percent = 10 }, approvalAbove: 5_000);
        var code = await api.NamedCodeAsync(campaign);
        object Order(long price) => new
        {
            code, dealerId = "D-HIGH", orderId = "SO-HV-" + price,
            lines = new[] { new { sku = "GEARBOX", quantity = 1, unitPrice = price } },
        };

        Assert.Equal(HttpStatusCode.Created, (await api.Admin.SendAsync(ApiFixture.Redeem(Order(40_000)))).StatusCode);
        var asked = await api.Admin.SendAsync(ApiFixture.Redeem(Order(90_000)));
        Assert.Equal("approval_required", await ApiFixture.CodeOf(asked));
        var approvalId = (await asked.Content.ReadFromJsonAsync<JsonObject>())!["approvalId"]!.GetValue<string>();
        var approval = await api.Finance.GetFromJsonAsync<JsonObject>($"/api/v1/approvals/{approvalId}");
        Assert.Equal("high_value", approval!["reason"]!.GetValue<string>());
        Assert.Equal(9_000, approval["amount"]!.GetValue<long>());

        (await api.Finance.PostAsJsonAsync($"/api/v1/approvals/{approvalId}/decision",
            new { decision = "approve", reasonCode = "key_account" })).EnsureSuccessStatusCode();
        var redeemed = await api.Admin.SendAsync(ApiFixture.Redeem(WithApproval(Order(90_000), approvalId)));

        Assert.Equal(HttpStatusCode.Created, redeemed.StatusCode);
        Assert.Equal(13_000, (await api.CampaignAsync(campaign))["budget"]!["spent"]!.GetValue<long>());
    }

    [Fact]
    public async Task ABlacklistedDealerIsRefusedAtRedemptionAndInValidations()
    {
        await api.PutDealerAsync("D-BLACK");
        var code = await api.NamedCodeAsync(await ActiveAsync("dealer_promo", new { type = "fixed", amount = 100 }));
        Assert.Equal(HttpStatusCode.Created, (await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-BLACK")))).StatusCode);

        var ops = api.Client(await api.CreateKeyAsync("ops"));
        (await ops.PostAsJsonAsync("/api/v1/blacklist", new { kind = "dealer", value = "D-BLACK", reason = "invoice fraud under review" }))
            .EnsureSuccessStatusCode();

        var refused = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-BLACK")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal("blacklisted", await ApiFixture.CodeOf(refused));
        var validation = await api.Admin.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(code, "D-BLACK"));
        var reasons = (await validation.Content.ReadFromJsonAsync<JsonObject>())!["reasons"]!.AsArray();
        Assert.Contains(reasons, r => r!["code"]!.GetValue<string>() == "blacklisted");
    }
}
