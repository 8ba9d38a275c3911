using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Api;

[Collection(ApiCollection.Name)]
public sealed class CampaignLifecycleTests(ApiFixture api)
{
    private async Task<(HttpStatusCode Status, string? Code)> RedeemAsync(string code, string dealer)
    {
        var response = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, dealer)));
        return (response.StatusCode, response.StatusCode == HttpStatusCode.Created ? null : await ApiFixture.CodeOf(response));
    }

    [Fact]
    public async Task OnlyAnActiveCampaignRedeemsThroughItsWholeLifecycle()
    {
        await api.PutDealerAsync("D-LIFE");
        var campaign = await api.CreateActiveCampaignAsync(activate: false);
        var code = await api.NamedCodeAsync(campaign);
        Assert.Equal("draft", (await api.CampaignAsync(campaign))["status"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "campaign_not_active"), await RedeemAsync(code, "D-LIFE"));

        var approveDraft = await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/approve", null);
        Assert.Equal(HttpStatusCode.Conflict, approveDraft.StatusCode);
        Assert.Equal("invalid_transition", await ApiFixture.CodeOf(approveDraft));

        var submitted = await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null);
        Assert.Equal("pending_approval", (await submitted.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        var approved = await api.Finance.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/approve", new { note = "within Q4 budget" });
        var body = await approved.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("active", body!["status"]!.GetValue<string>());
        Assert.Equal("within Q4 budget", body["decisionNote"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.Created, null), await RedeemAsync(code, "D-LIFE"));

        await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/pause", null);
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "campaign_not_active"), await RedeemAsync(code, "D-LIFE"));
        await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/resume", null);
        Assert.Equal((HttpStatusCode.Created, null), await RedeemAsync(code, "D-LIFE"));
        var closed = await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/close", null);
        Assert.Equal("closed", (await closed.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "campaign_not_active"), await RedeemAsync(code, "D-LIFE"));
        Assert.Equal(HttpStatusCode.Conflict, (await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/resume", null)).StatusCode);
        Assert.Equal(2000, (await api.CampaignAsync(campaign))["budget"]!["spent"]!.GetValue<long>());
    }

    [Fact]
    public async Task ARejectedCampaignCanBeResubmitted()
    {
        var campaign = await api.CreateActiveCampaignAsync(activate: false);
        await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null);
        var rejected = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/reject", new { note = "margin too thin" });
        Assert.Equal("rejected", (await rejected.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        var resubmitted = await api.Admin.PostAsync($"/api/v1/campaigns/{campaign}/submit", null);
        Assert.Equal(HttpStatusCode.OK, resubmitted.StatusCode);
    }

    [Fact]
    public async Task BulkCodesAreUniqueSingleUseAndBoundWhenAsked()
    {
        var campaign = await api.CreateActiveCampaignAsync();
        var response = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons",
            new { count = 2000, prefix = "dlr", dealerId = "D-BULK" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var codes = (await response.Content.ReadFromJsonAsync<JsonObject>())!["codes"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray();

        Assert.Equal(2000, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^DLR-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$", c));
        var coupon = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{codes[0]}");
        Assert.Equal(1, coupon!["maxUses"]!.GetValue<int>());
        Assert.Equal("D-BULK", coupon["dealerId"]!.GetValue<string>());
        Assert.Equal(2000L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM coupons WHERE campaign_id = @c", ("c", campaign)));

        var duplicate = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { code = codes[0] });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("code_already_exists", await ApiFixture.CodeOf(duplicate));
    }

    [Fact]
    public async Task AValidationListsEveryFailingReasonAndChangesNothing()
    {
        await api.PutDealerAsync("D-VAL", tier: "distributor", region: "north");
        var campaign = await api.CreateActiveCampaignAsync(
            eligibility: new { categories = new[] { "filters" }, channelTiers = new[] { "service_center" }, regions = new[] { "south" } });
        var code = await api.NamedCodeAsync(campaign);
        var order = new
        {
            code, dealerId = "D-VAL", region = "north",
            lines = new[] { new { sku = "BP-220", category = "brakes", quantity = 1, unitPrice = 1000 } },
        };

        var response = await api.Admin.PostAsJsonAsync("/api/v1/validations", order);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.False(body!["valid"]!.GetValue<bool>());
        var reasons = body["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).ToArray();
        Assert.True(reasons.Count(r => r == "not_eligible") >= 3, string.Join(",", reasons));
        Assert.Equal(0, (await api.CampaignAsync(campaign))["budget"]!["reserved"]!.GetValue<long>());

        var good = await api.Admin.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(await api.NamedCodeAsync(
            await api.CreateActiveCampaignAsync(discount: new { type = "percent", percent = 10, maxAmount = 50_000 })), "D-VAL"));
        var ok = await good.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(ok!["valid"]!.GetValue<bool>());
        Assert.Equal(50_000, ok["discount"]!.GetValue<long>());
        Assert.Equal("INR", ok["currency"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownCodeIsNotFound()
    {
        var response = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order("NO-SUCH-CODE", "D-X")));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("coupon_not_found", await ApiFixture.CodeOf(response));
    }
}
