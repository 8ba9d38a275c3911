using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Security;

[Collection(ApiCollection.Name)]
public sealed class CampaignApprovalChainTests(ApiFixture api)
{
    private static async Task<string> IdOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

    private static async Task<string?> StatusOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!["status"]?.GetValue<string>();

    [Fact]
    public async Task NobodyApprovesACampaignTheyCreatedOrSubmitted()
    {
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var id = await IdOf(await api.Admin.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign()));
        (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();

        var byCreator = await api.Admin.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal(HttpStatusCode.Forbidden, byCreator.StatusCode);
        Assert.Equal("own_campaign", await ApiFixture.CodeOf(byCreator));

        var approved = await api.Finance.PostAsJsonAsync($"/api/v1/campaigns/{id}/approve", new { note = "ok" });
        Assert.Equal("active", await StatusOf(approved));
        var approval = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{id}/approval");
        Assert.Equal(1, approval!["approvalsRequired"]!.GetValue<int>());
        Assert.Single(approval["approvals"]!.AsArray());
    }

    [Fact]
    public async Task ABudgetAboveTheThresholdNeedsTwoDistinctApproversOneAnAdmin()
    {
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var otherFinance = api.Client(await api.CreateKeyAsync(Roles.Finance));
        var id = await IdOf(await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign(budget: ApiFixture.SecondApproverAbove + 1)));
        (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();

        var first = await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("pending_approval", await StatusOf(first));

        var twice = await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal((HttpStatusCode.Forbidden, "already_approved"), (twice.StatusCode, await ApiFixture.CodeOf(twice)));
        var noAdmin = await otherFinance.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal((HttpStatusCode.Forbidden, "admin_approval_required"), (noAdmin.StatusCode, await ApiFixture.CodeOf(noAdmin)));
        Assert.Equal("pending_approval", (await api.CampaignAsync(id))["status"]!.GetValue<string>());

        var second = await api.Admin.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal("active", await StatusOf(second));
        var approval = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{id}/approval");
        Assert.Equal(2, approval!["approvalsRequired"]!.GetValue<int>());
        Assert.Equal(["finance", "admin"], approval["approvals"]!.AsArray().Select(a => a!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ChangingMoneyTermsSendsAnApprovedCampaignBackToApproval()
    {
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var id = await IdOf(await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign()));
        (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
        (await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null)).EnsureSuccessStatusCode();

        var renamed = await marketing.PutAsJsonAsync($"/api/v1/campaigns/{id}", SecurityData.Campaign(name: "Renamed"));
        Assert.Equal("active", await StatusOf(renamed));

        var richer = await marketing.PutAsJsonAsync($"/api/v1/campaigns/{id}",
            SecurityData.Campaign(name: "Renamed", discount: new { type = "fixed", amount = 2000 }));
        Assert.Equal("pending_approval", await StatusOf(richer));
        var code = await api.NamedCodeAsync(id);
        var refused = await api.Admin.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(code, "D-ANY"));
        Assert.Contains("campaign_not_active", (await refused.Content.ReadAsStringAsync()));

        // The editor counts as the submitter of the new round; another key approves it again.
        Assert.Equal(HttpStatusCode.Forbidden, (await marketing.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal("active", await StatusOf(await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null)));
        Assert.Equal(2000, (await api.CampaignAsync(id))["discount"]!["amount"]!.GetValue<long>());

        var currency = await marketing.PutAsJsonAsync($"/api/v1/campaigns/{id}", new JsonObject
        {
            ["name"] = "Renamed", ["kind"] = "dealer_promo", ["currency"] = "USD", ["budget"] = 10_000_000,
            ["validFrom"] = "2026-01-01T00:00:00", ["validUntil"] = "2027-01-01T00:00:00", ["timeZone"] = "UTC",
            ["discount"] = new JsonObject { ["type"] = "fixed", ["amount"] = 2000 },
        });
        Assert.Equal((HttpStatusCode.Conflict, "immutable_field"), (currency.StatusCode, await ApiFixture.CodeOf(currency)));
    }

    [Fact]
    public async Task ARejectionNeedsAReason()
    {
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var id = await IdOf(await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign()));
        (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
        var bare = await api.Finance.PostAsync($"/api/v1/campaigns/{id}/reject", null);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (bare.StatusCode, await ApiFixture.CodeOf(bare)));
        Assert.Equal("pending_approval", (await api.CampaignAsync(id))["status"]!.GetValue<string>());
        var rejected = await api.Finance.PostAsJsonAsync($"/api/v1/campaigns/{id}/reject", new { reasonCode = "margin_too_thin" });
        Assert.Equal("rejected", await StatusOf(rejected));
    }

    [Fact]
    public async Task TheProjectionGivesTheBudgetAsMaximumCostAndTheLowestMargin()
    {
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var definition = SecurityData.Campaign(budget: 5_000_000, discount: new { type = "percent", percent = 10, maxAmount = 50_000 },
            marginFloorPercent: 12);
        var id = await IdOf(await marketing.PostAsJsonAsync("/api/v1/campaigns", definition));
        var catalogue = new[]
        {
            new { sku = "THIN", category = "brakes", unitPrice = 1_000L, unitCost = 850L },
            new { sku = "FAT", category = "brakes", unitPrice = 1_000L, unitCost = 500L },
        };
        (await marketing.PostAsJsonAsync($"/api/v1/campaigns/{id}/submit", new { catalogue })).EnsureSuccessStatusCode();

        var projection = await (await api.Finance.PostAsync($"/api/v1/campaigns/{id}/projection", null)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(5_000_000, projection!["maxDiscountCost"]!.GetValue<long>());
        var worst = projection["lowestMargin"]!;
        Assert.Equal("THIN", worst["sku"]!.GetValue<string>());
        // 10 % off 1,000 leaves 900 against a cost of 850: 50 / 900 = 5.5556 %, below the 12 % floor.
        Assert.Equal(5.5556m, worst["marginPercent"]!.GetValue<decimal>());
        Assert.True(projection["breachesMarginFloor"]!.GetValue<bool>());
        Assert.Equal(2, projection["itemsEvaluated"]!.GetValue<int>());

        var other = await api.Finance.PostAsJsonAsync($"/api/v1/campaigns/{id}/projection",
            new { catalogue = new[] { new { sku = "FAT", category = "brakes", unitPrice = 1_000L, unitCost = 500L } } });
        var fat = await other.Content.ReadFromJsonAsync<JsonObject>();
        Assert.False(fat!["breachesMarginFloor"]!.GetValue<bool>());
        var bad = await api.Finance.PostAsJsonAsync($"/api/v1/campaigns/{id}/projection",
            new { catalogue = new[] { new { sku = "X", unitPrice = -1L, unitCost = 5L } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task UnknownBodyFieldsHaveNoEffect()
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(SecurityData.Campaign()))!.AsObject();
        body["id"] = "C-CHOSEN";
        body["status"] = "active";
        body["createdBy"] = "K-someone-else";
        var created = await api.Admin.PostAsJsonAsync("/api/v1/campaigns", body);
        var campaign = await created.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("draft", campaign!["status"]!.GetValue<string>());
        Assert.NotEqual("C-CHOSEN", campaign["id"]!.GetValue<string>());

        var key = await api.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "n", role = "ops", id = "K-chosen", key = "cg_mine", dealerId = (string?)null });
        var issued = await key.Content.ReadFromJsonAsync<JsonObject>();
        Assert.NotEqual("K-chosen", issued!["id"]!.GetValue<string>());
        Assert.NotEqual("cg_mine", issued["key"]!.GetValue<string>());

        var malformed = await api.Admin.PostAsync("/api/v1/campaigns", new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json"));
        var text = await malformed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain(" at ", text);
    }
}
