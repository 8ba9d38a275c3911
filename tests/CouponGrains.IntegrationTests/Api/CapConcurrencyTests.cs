using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Grains.Redemptions;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>Every cap holds exactly under concurrent redemptions through the HTTP API.</summary>
[Collection(ApiCollection.Name)]
public sealed class CapConcurrencyTests(ApiFixture api)
{
    private const long Discount = 1000;

    private static async Task<HttpResponseMessage[]> FireAsync(HttpClient client, int count, Func<int, object> order)
    {
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await start.WaitAsync();
            return await client.SendAsync(ApiFixture.Redeem(order(i)));
        }).ToArray();
        start.Release(count);
        return await Task.WhenAll(tasks);
    }

    private async Task<(long Sum, long Count)> LedgerAsync(string campaignId)
    {
        var sum = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT COALESCE(sum(discount - reversed_discount), 0)::bigint FROM redemptions WHERE campaign_id = @c AND status <> 'aborted'",
            ("c", campaignId));
        var count = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaignId));
        return (sum, count);
    }

    private static Task AssertOutcomeAsync(HttpResponseMessage[] responses, int expectedOk, string expectedRejection) =>
        AssertOutcomeAsync(responses, expectedOk, [expectedRejection]);

    /// <summary>Exactly <paramref name="expectedOk"/> succeed and every other answer is a 409 with one of the codes.</summary>
    private static async Task AssertOutcomeAsync(HttpResponseMessage[] responses, int expectedOk, string[] expectedRejections)
    {
        var ok = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var tally = await ApiFixture.TallyAsync(responses);
        Assert.True(ok == expectedOk, $"expected {expectedOk} redemptions to succeed; the answers were {tally}");
        foreach (var r in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            var code = await ApiFixture.CodeOf(r);
            Assert.True(r.StatusCode == HttpStatusCode.Conflict && expectedRejections.Contains(code),
                $"expected only 409 {string.Join(" / ", expectedRejections)} besides the successes; the answers were {tally}");
        }
    }

    [Fact]
    public async Task ExactlyTheBudgetsWorthSucceedsOutOf500ConcurrentRedemptions()
    {
        await api.PutDealerAsync("D-BUDGET");
        var campaign = await api.CreateActiveCampaignAsync(budget: 137 * Discount);
        var code = await api.NamedCodeAsync(campaign);

        var responses = await FireAsync(api.Admin, 500, i => ApiFixture.Order(code, "D-BUDGET", customerId: $"C-{i}"));

        await AssertOutcomeAsync(responses, 137, "campaign_budget_exhausted");
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(137 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["remaining"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(137, view["redemptionCount"]!.GetValue<long>());
        Assert.Equal((137 * Discount, 137L), await LedgerAsync(campaign));
    }

    [Fact]
    public async Task ADealersCapIsNeverPassedUnderConcurrency()
    {
        await api.PutDealerAsync("D-CAP-A");
        await api.PutDealerAsync("D-CAP-B");
        var campaign = await api.CreateActiveCampaignAsync(caps: new { perDealerAmount = 7 * Discount });
        var code = await api.NamedCodeAsync(campaign);

        var responses = await FireAsync(api.Admin, 200, i => ApiFixture.Order(code, "D-CAP-A"));
        await AssertOutcomeAsync(responses, 7, "dealer_cap_reached");

        // Another dealer still has its whole cap.
        var other = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-CAP-B")));
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.Equal((8 * Discount, 8L), await LedgerAsync(campaign));
    }

    [Fact]
    public async Task ABranchQuotaIsNeverPassedUnderConcurrency()
    {
        await api.PutDealerAsync("D-BRANCH", branches: ["D-BRANCH-1"]);
        var campaign = await api.CreateActiveCampaignAsync(caps: new { perBranchRedemptions = 11 });
        var code = await api.NamedCodeAsync(campaign);

        var responses = await FireAsync(api.Admin, 200, i => ApiFixture.Order(code, "D-BRANCH", branchId: "D-BRANCH-1"));

        await AssertOutcomeAsync(responses, 11, "branch_quota_reached");
        Assert.Equal(11L, (await LedgerAsync(campaign)).Count);
    }

    [Fact]
    public async Task ACustomerLimitIsNeverPassedUnderConcurrency()
    {
        await api.PutDealerAsync("D-CUST");
        var campaign = await api.CreateActiveCampaignAsync(caps: new { perCustomerRedemptions = 3 });
        var code = await api.NamedCodeAsync(campaign);

        var responses = await FireAsync(api.Admin, 150, i => ApiFixture.Order(code, "D-CUST", customerId: "C-SAME"));

        await AssertOutcomeAsync(responses, 3, "customer_limit_reached");
        Assert.Equal(3L, (await LedgerAsync(campaign)).Count);
    }

    [Fact]
    public async Task ASingleUseCodeRacedBy100CallersSucceedsOnce()
    {
        await api.PutDealerAsync("D-SINGLE");
        var campaign = await api.CreateActiveCampaignAsync();
        var issued = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { count = 1 });
        var code = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["codes"]![0]!.GetValue<string>();

        var responses = await FireAsync(api.Admin, 100, i => ApiFixture.Order(code, "D-SINGLE"));

        await AssertOutcomeAsync(responses, 1, "coupon_uses_exhausted");
        var coupon = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}");
        Assert.Equal(1, coupon!["uses"]!.GetValue<long>());
        Assert.Equal("exhausted", coupon["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ASingleUseCodeGoesToTheOneCallerWhoFitsWhateverTheDoomedOnesHold()
    {
        await api.PutDealerAsync("D-DOOMED");
        var campaign = await api.CreateActiveCampaignAsync(caps: new { perCustomerRedemptions = 1 });
        var named = await api.NamedCodeAsync(campaign);
        var full = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(named, "D-DOOMED", customerId: "C-FULL")));
        Assert.Equal(HttpStatusCode.Created, full.StatusCode);
        var issued = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { count = 1 });
        var code = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["codes"]![0]!.GetValue<string>();
        var waits = api.Services.GetRequiredService<HeldCapacityWaits>();
        var waitsBefore = waits.Stats.Waits;

        // 99 callers for a customer at its limit and one for a customer with room race for the code's one use. Each
        // doomed caller holds the use before its customer refuses it: the one who fits must not be told the code is used
        // up while a doomed hold is in flight, because that hold is released and the code ends up unused.
        var responses = await FireAsync(api.Admin, 100, i => ApiFixture.Order(code, "D-DOOMED", customerId: i == 50 ? "C-FREE" : "C-FULL"));

        // Once the use is committed, a doomed caller may be told so before its customer is looked at.
        Assert.True(responses[50].StatusCode == HttpStatusCode.Created, $"the caller with room got {await ApiFixture.TallyAsync([responses[50]])}");
        await AssertOutcomeAsync(responses, 1, ["customer_limit_reached", "coupon_uses_exhausted"]);
        var coupon = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}");
        Assert.Equal(1, coupon!["uses"]!.GetValue<long>());

        // Callers that met the use held by another waited for it, and the metric counts those waits.
        Assert.True(waits.Stats.Waits > waitsBefore, "no caller waited for the held use");
    }

    [Fact]
    public async Task AValidationNamesEveryMemberCapThatIsFullAcrossTheDealersAndTheCustomersShards()
    {
        await api.PutDealerAsync("D-VAL-CAPS", branches: ["D-VAL-CAPS-1"]);
        await api.PutDealerAsync("D-VAL-OTHER", branches: ["D-VAL-OTHER-1"]);
        var campaign = await api.CreateActiveCampaignAsync(
            caps: new { perDealerAmount = Discount, perBranchRedemptions = 1, perCustomerRedemptions = 1 });
        var code = await api.NamedCodeAsync(campaign);
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-VAL-CAPS", branchId: "D-VAL-CAPS-1", customerId: "C-VAL")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // The dealer's and the branch's caps live in the dealer's shard, the customer's in the customer's: all three are named.
        var full = await api.Admin.PostAsJsonAsync("/api/v1/validations",
            ApiFixture.Order(code, "D-VAL-CAPS", branchId: "D-VAL-CAPS-1", customerId: "C-VAL", orderId: "SO-VAL-2"));
        var body = (await full.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(body["valid"]!.GetValue<bool>());
        var reasons = body["reasons"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["branch_quota_reached", "customer_limit_reached", "dealer_cap_reached"], reasons);

        // Another dealer, branch and customer: nothing is full.
        var other = await api.Admin.PostAsJsonAsync("/api/v1/validations",
            ApiFixture.Order(code, "D-VAL-OTHER", branchId: "D-VAL-OTHER-1", customerId: "C-VAL-OTHER", orderId: "SO-VAL-3"));
        Assert.True((await other.Content.ReadFromJsonAsync<JsonObject>())!["valid"]!.GetValue<bool>());
    }

    [Fact]
    public async Task EveryCapTogetherHoldsAndRefusalsLeaveNothingHeld()
    {
        await api.PutDealerAsync("D-ALL", branches: ["D-ALL-1"]);
        var campaign = await api.CreateActiveCampaignAsync(
            budget: 50 * Discount, caps: new { perDealerAmount = 20 * Discount, perBranchRedemptions = 15, perCustomerRedemptions = 4 });
        var code = await api.NamedCodeAsync(campaign);

        var responses = await FireAsync(api.Admin, 300, i => ApiFixture.Order(code, "D-ALL", branchId: "D-ALL-1", customerId: $"C-{i % 5}"));

        // Five customers × 4 = 20 by customer, 15 by branch, 20 by dealer, 50 by budget: the branch binds, at exactly 15.
        // The budget's first 50 holders meet the branch and customer shards in parallel, and the fifteen the branch admits
        // need not be among the four per customer the customer shard admits. Refused there only by each other's holds, they
        // give back what they hold and try again, so the burst fills the branch quota (before, CI saw 0 of 300 succeed).
        // Every refusal is final: it names a cap that is full in the ledger.
        await AssertOutcomeAsync(responses, 15, ["branch_quota_reached", "customer_limit_reached", "campaign_budget_exhausted", "dealer_cap_reached"]);
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(15 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal((15 * Discount, 15L), await LedgerAsync(campaign));
        var branchUsage = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND branch_id = 'D-ALL-1' AND status = 'committed'", ("c", campaign));
        Assert.Equal(15L, branchUsage);

        // Nothing stays held: the next one is refused by the branch quota, now full, and nothing else.
        var next = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-ALL", branchId: "D-ALL-1", customerId: "C-0")));
        Assert.Equal(HttpStatusCode.Conflict, next.StatusCode);
        Assert.Equal("branch_quota_reached", await ApiFixture.CodeOf(next));
    }
}
