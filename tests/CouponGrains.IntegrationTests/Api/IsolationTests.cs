using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Api;

[Collection(ApiCollection.Name)]
public sealed class IsolationTests(ApiFixture api)
{
    [Fact]
    public async Task ADealerKeyNeverReachesAnotherDealersData()
    {
        await api.PutDealerAsync("D-ISO-A");
        await api.PutDealerAsync("D-ISO-B");
        var campaign = await api.CreateActiveCampaignAsync();
        var publicCode = await api.NamedCodeAsync(campaign);
        var codeOfB = await api.NamedCodeAsync(campaign, dealerId: "D-ISO-B");
        var dealerA = api.Client(await api.CreateKeyAsync("dealer", "D-ISO-A"));
        var dealerB = api.Client(await api.CreateKeyAsync("dealer", "D-ISO-B"));
        var created = await dealerB.SendAsync(ApiFixture.Redeem(ApiFixture.Order(publicCode, "D-ISO-B")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var redemptionOfB = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var redeemForB = await dealerA.SendAsync(ApiFixture.Redeem(ApiFixture.Order(publicCode, "D-ISO-B")));
        Assert.Equal(HttpStatusCode.Forbidden, redeemForB.StatusCode);
        var validateForB = await dealerA.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(publicCode, "D-ISO-B"));
        Assert.Equal(HttpStatusCode.Forbidden, validateForB.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await dealerA.GetAsync($"/api/v1/redemptions/{redemptionOfB}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dealerA.GetAsync($"/api/v1/coupons/{codeOfB}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dealerA.GetAsync("/api/v1/dealers/D-ISO-B")).StatusCode);
        var reverse = await dealerA.PostAsJsonAsync($"/api/v1/redemptions/{redemptionOfB}/reversal", new { reason = "steal" });
        Assert.Equal(HttpStatusCode.Forbidden, reverse.StatusCode);
        var invoice = await dealerA.PostAsJsonAsync($"/api/v1/redemptions/{redemptionOfB}/invoice", new { invoiceNumber = "X", invoiceDate = "2026-11-01" });
        Assert.Equal(HttpStatusCode.Forbidden, invoice.StatusCode);

        // The owner still sees it, untouched.
        var own = await dealerB.GetFromJsonAsync<JsonObject>($"/api/v1/redemptions/{redemptionOfB}");
        Assert.Equal("committed", own!["status"]!.GetValue<string>());
        Assert.Null(own["invoiceNumber"]);
        Assert.Equal(HttpStatusCode.OK, (await dealerB.GetAsync($"/api/v1/coupons/{codeOfB}")).StatusCode);
    }

    [Fact]
    public async Task ADealerKeyCannotCallStaffEndpoints()
    {
        var campaign = await api.CreateActiveCampaignAsync();
        var dealer = api.Client(await api.CreateKeyAsync("dealer", "D-ISO-STAFF"));

        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.PostAsJsonAsync("/api/v1/campaigns", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.GetAsync($"/api/v1/campaigns/{campaign}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.PostAsync($"/api/v1/campaigns/{campaign}/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { count = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.PostAsJsonAsync("/api/v1/api-keys", new { name = "x", role = "admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.PutAsJsonAsync("/api/v1/dealers/D-ISO-STAFF", new { name = "x" })).StatusCode);
        Assert.Equal("active", (await api.CampaignAsync(campaign))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task StaffRolesAreGatedByAction()
    {
        var campaign = await api.CreateActiveCampaignAsync(activate: false);
        var marketing = api.Client(await api.CreateKeyAsync("marketing"));
        var finance = api.Client(await api.CreateKeyAsync("finance"));
        var ops = api.Client(await api.CreateKeyAsync("ops"));

        Assert.Equal(HttpStatusCode.OK, (await marketing.PostAsync($"/api/v1/campaigns/{campaign}/submit", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ops.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await finance.PostAsync($"/api/v1/campaigns/{campaign}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.PostAsync($"/api/v1/campaigns/{campaign}/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.PostAsJsonAsync("/api/v1/api-keys", new { name = "x", role = "admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ops.GetAsync($"/api/v1/campaigns/{campaign}")).StatusCode);
    }

    [Fact]
    public async Task AMissingOrUnknownKeyIsUnauthorized()
    {
        var anonymous = api.Client(null);
        var unknown = api.Client("cg_not_a_real_key");

        var missing = await anonymous.PostAsJsonAsync("/api/v1/validations", new { });
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("unauthorized", await ApiFixture.CodeOf(missing));
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync("/api/v1/campaigns/C-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.SendAsync(ApiFixture.Redeem(new { }))).StatusCode);
    }

    [Fact]
    public async Task TheDashboardIsForOpsAndAdminsOnly()
    {
        var anonymous = await api.Client(null).GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString());

        var dealer = api.Client(null);
        dealer.DefaultRequestHeaders.Authorization = BasicAuth.For(await api.CreateKeyAsync("dealer", "D-DASH"));
        Assert.Equal(HttpStatusCode.Forbidden, (await dealer.GetAsync("/dashboard/")).StatusCode);

        var browser = api.Client(null);
        browser.DefaultRequestHeaders.Authorization = BasicAuth.For(await api.CreateKeyAsync("ops"));
        var page = await browser.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
