using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Api;

[Collection(ApiCollection.Name)]
public sealed class IdempotencyAndReversalTests(ApiFixture api)
{
    [Fact]
    public async Task FiftyConcurrentRequestsWithOneKeyMakeOneRedemption()
    {
        await api.PutDealerAsync("D-IDEM");
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);
        var order = ApiFixture.Order(code, "D-IDEM", orderId: "SO-IDEM-1");
        var key = "idem-" + Guid.NewGuid().ToString("N");

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => api.Admin.SendAsync(ApiFixture.Redeem(order, key))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        var ids = bodies.Select(b => JsonNode.Parse(b)!["id"]!.GetValue<string>()).Distinct().ToArray();
        Assert.Single(ids);
        Assert.Equal(1, responses.Count(r => !r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(1L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM audit_log WHERE entity_type = 'redemption' AND entity_id = @id AND action = 'redeemed' AND actor_role = 'admin'",
            ("id", ids[0])));
        Assert.Equal(1L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign)));

        var replay = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(bodies[0], await replay.Content.ReadAsStringAsync());

        var otherBody = ApiFixture.Order(code, "D-IDEM", orderId: "SO-IDEM-2");
        var reused = await api.Admin.SendAsync(ApiFixture.Redeem(otherBody, key));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal("idempotency_key_reused", await ApiFixture.CodeOf(reused));
        Assert.Equal(1000, (await api.CampaignAsync(campaign))["budget"]!["spent"]!.GetValue<long>());
    }

    [Fact]
    public async Task ARedemptionWithoutAnIdempotencyKeyIsRefused()
    {
        await api.PutDealerAsync("D-NOKEY");
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);

        var response = await api.Admin.PostAsJsonAsync("/api/v1/redemptions", ApiFixture.Order(code, "D-NOKEY"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("Idempotency-Key", problem!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task AReversalRestoresEveryCounterAndASecondReversalChangesNothing()
    {
        await api.PutDealerAsync("D-REV", branches: ["D-REV-1"]);
        var campaign = await api.CreateActiveCampaignAsync(
            budget: 1000, caps: new { perDealerAmount = 1000, perBranchRedemptions = 1, perCustomerRedemptions = 1 });
        var issued = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { count = 1 });
        var code = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["codes"]![0]!.GetValue<string>();
        var order = ApiFixture.Order(code, "D-REV", branchId: "D-REV-1", customerId: "C-REV");

        var first = await api.Admin.SendAsync(ApiFixture.Redeem(order));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var blocked = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-REV", branchId: "D-REV-1", customerId: "C-REV")));
        Assert.Equal(HttpStatusCode.Conflict, blocked.StatusCode);

        var reversal = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "order cancelled" });
        Assert.Equal(HttpStatusCode.OK, reversal.StatusCode);
        Assert.Equal("reversed", (await reversal.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(0, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["redemptionCount"]!.GetValue<long>());
        Assert.Equal(0, (await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}"))!["uses"]!.GetValue<long>());

        var second = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "again" });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("order cancelled", (await second.Content.ReadFromJsonAsync<JsonObject>())!["reversalReason"]!.GetValue<string>());
        Assert.Equal(0, (await api.CampaignAsync(campaign))["budget"]!["spent"]!.GetValue<long>());

        // Every cap (coupon use, budget, dealer, branch, customer) was given back exactly once: the
        // same order redeems again, and only once more.
        var again = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-REV", branchId: "D-REV-1", customerId: "C-REV")));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var overflow = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-REV", branchId: "D-REV-1", customerId: "C-REV")));
        Assert.Equal(HttpStatusCode.Conflict, overflow.StatusCode);
        view = await api.CampaignAsync(campaign);
        Assert.Equal(1000, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(1, view["redemptionCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task ConcurrentReversalsOfOneRedemptionRestoreOnce()
    {
        await api.PutDealerAsync("D-REV2");
        var campaign = await api.CreateActiveCampaignAsync(budget: 5000);
        var code = await api.NamedCodeAsync(campaign);
        var created = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-REV2")));
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-REV2")));

        var reversals = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "duplicate" })));

        Assert.All(reversals, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(1000, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(1, view["redemptionCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task ARedemptionIsMappedToOneInvoiceOnly()
    {
        await api.PutDealerAsync("D-INV");
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);
        var created = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-INV")));
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var mapped = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice",
            new { invoiceNumber = "INV-1", invoiceDate = "2026-11-20", deliveryProofRef = "POD-9" });
        Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
        var read = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/redemptions/{id}");
        Assert.Equal("INV-1", read!["invoiceNumber"]!.GetValue<string>());
        Assert.Equal("2026-11-20", read["invoiceDate"]!.GetValue<string>());

        var same = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice", new { invoiceNumber = "INV-1", invoiceDate = "2026-11-20" });
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        var other = await api.Admin.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice", new { invoiceNumber = "INV-2", invoiceDate = "2026-11-21" });
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("already_invoiced", await ApiFixture.CodeOf(other));
    }
}
