using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Grains.Redemptions;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>
/// A budget whose last room is held by a redemption in flight. Its ledger batch is kept waiting on the campaign's
/// fence, so the hold stays in flight for as long as the test needs: a second redemption must neither be refused
/// nor pass the budget. It waits, and the first one's fate decides its answer.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class HeldCapacityTests(ApiFixture api)
{
    private const long Discount = 1000;

    /// <summary>A campaign with room for two redemptions, one of them spent (which writes its grains' fences).</summary>
    private async Task<(string Campaign, string Code)> OneLeftAsync(string dealerId)
    {
        await api.PutDealerAsync(dealerId);
        var campaign = await api.CreateActiveCampaignAsync(budget: 2 * Discount);
        var code = await api.NamedCodeAsync(campaign);
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, dealerId, orderId: "SO-FIRST")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        return (campaign, code);
    }

    private Task<long> CommittedAsync(string campaign) =>
        TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", ("c", campaign));

    /// <summary>Until a redemption has met a cap filled only by holds in flight and waits to try again.</summary>
    private async Task WaitingAsync(HeldCapacityWaits waits, long before, Task request)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (waits.Stats.Waits <= before)
        {
            Assert.False(request.IsCompleted, "the redemption was answered before it waited for the held budget");
            Assert.True(DateTime.UtcNow < deadline, "no redemption waited for the held budget");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task ARedemptionMeetingAHeldBudgetWaitsAndIsRefusedOnlyOnceTheHolderCommits()
    {
        var (campaign, code) = await OneLeftAsync("D-HELD-1");
        await using var holder = await FenceHolder.HoldAsync(api.ConnectionString, campaign);
        var holding = api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-HELD-1", orderId: "SO-HOLDING")));
        await holder.WaitForBatchesAsync(1, holding);

        // The dry run refuses only what is spent: the held room may come back.
        var validation = await api.Admin.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(code, "D-HELD-1", orderId: "SO-CHECK"));
        Assert.True((await validation.Content.ReadFromJsonAsync<JsonObject>())!["valid"]!.GetValue<bool>());

        // A redemption waits its 2 s for the hold, then is told to retry: not a refusal, and nothing held.
        var key = Guid.NewGuid().ToString("N");
        var order = ApiFixture.Order(code, "D-HELD-1", orderId: "SO-WAITING");
        var started = DateTime.UtcNow;
        var contended = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.True(contended.StatusCode == HttpStatusCode.ServiceUnavailable,
            $"expected 503 cap_contended, got {await ApiFixture.TallyAsync([contended])}");
        Assert.Equal("cap_contended", await ApiFixture.CodeOf(contended));
        var problem = (await contended.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("campaign_budget_exhausted", problem["cap"]!.GetValue<string>());
        Assert.NotNull(contended.Headers.RetryAfter);
        Assert.True(DateTime.UtcNow - started >= RedeemGrain.WaitForHeldCapacity, "the redemption did not wait for the held budget");
        Assert.False(holding.IsCompleted);
        Assert.Equal(Discount, (await api.CampaignAsync(campaign))["budget"]!["reserved"]!.GetValue<long>());

        // The holder commits; now the budget is spent, and the retry is refused for good.
        await holder.ReleaseAsync();
        Assert.Equal(HttpStatusCode.Created, (await holding).StatusCode);
        var refused = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal((HttpStatusCode.Conflict, "campaign_budget_exhausted"), (refused.StatusCode, await ApiFixture.CodeOf(refused)));
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(2 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(2L, await CommittedAsync(campaign));
    }

    [Fact]
    public async Task ARedemptionMeetingAHeldBudgetGetsItWhenTheHolderFails()
    {
        var (campaign, code) = await OneLeftAsync("D-HELD-2");
        var waits = api.Services.GetRequiredService<HeldCapacityWaits>();
        await using var holder = await FenceHolder.HoldAsync(api.ConnectionString, campaign);
        var holding = api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-HELD-2", orderId: "SO-DOOMED")));
        var backends = await holder.WaitForBatchesAsync(1, holding);

        // The second redemption finds the last room held and waits; the holder's session is then ended under it, so
        // the holder never commits and gives its hold back (and the fence is let go for the waiting one's own batch). Refused at once, as before, the waiting one would have been
        // told the budget was exhausted while it ends with room for exactly this redemption.
        var before = waits.Stats.Waits;
        var waiting = api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, "D-HELD-2", orderId: "SO-WAITING")));
        await WaitingAsync(waits, before, waiting);
        await holder.TerminateAsync(backends[0]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await holding).StatusCode);
        await holder.ReleaseAsync();

        var answer = await waiting;
        Assert.True(answer.StatusCode == HttpStatusCode.Created, $"the waiting redemption got {await ApiFixture.TallyAsync([answer])}");
        var view = await api.CampaignAsync(campaign);
        Assert.Equal(2 * Discount, view["budget"]!["spent"]!.GetValue<long>());
        Assert.Equal(0, view["budget"]!["reserved"]!.GetValue<long>());
        Assert.Equal(2L, await CommittedAsync(campaign));
    }
}
