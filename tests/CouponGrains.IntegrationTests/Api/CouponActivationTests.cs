using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>
/// Issued coupons are rows; a coupon grain is in memory only while its code is in use. A used-up code
/// and an unknown one leave memory at once, and coming back for them is still answered exactly.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class CouponActivationTests(ApiFixture api)
{
    private const string Dealer = "D-ACTIVATIONS";

    private static readonly TimeSpan s_deactivationDeadline = TimeSpan.FromSeconds(15);

    private IGrainFactory Grains => api.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task UsedUpSingleUseCouponsLeaveMemoryAndStayUsedUp()
    {
        await api.PutDealerAsync(Dealer);
        var campaign = await api.CreateActiveCampaignAsync();
        var issued = await api.Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/coupons", new { count = 20 });
        var codes = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["codes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();

        var redeemed = await Task.WhenAll(codes.Select(code => api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, Dealer)))));
        Assert.All(redeemed, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));

        foreach (var code in codes)
        {
            await AssertLeavesMemoryAsync(code);
        }

        // A fresh activation reads its use from the ledger: the code is refused, never used twice.
        var again = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(codes[0], Dealer)));
        Assert.Equal("coupon_uses_exhausted", await ApiFixture.CodeOf(again));
        var coupon = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{codes[0]}");
        Assert.Equal(1, coupon!["uses"]!.GetValue<long>());
        Assert.Equal("exhausted", coupon["status"]!.GetValue<string>());
        Assert.Equal(20, (await api.CampaignAsync(campaign))["redemptionCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task ACouponWithUsesLeftKeepsItsActivationUntilItsLastUse()
    {
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign, maxUses: 3);
        var coupon = Grains.GetGrain<ICouponGrain>(GrainKeys.Coupon(code));

        // Every activation takes a new fence epoch, so equal epochs mean one activation served all three
        // holds. Each confirm is one-way; the next hold, from the same caller, is queued behind it.
        var fences = new List<long>();
        for (var use = 1; use <= 3; use++)
        {
            var hold = await coupon.TryHoldAsync($"R-activation-{code}-{use}", Dealer);
            Assert.Null(hold.Rejection);
            fences.Add(hold.Fence);
            await coupon.ConfirmManyAsync([$"R-activation-{code}-{use}"]);
        }

        Assert.Single(fences.Distinct());
        await AssertLeavesMemoryAsync(code);
    }

    [Fact]
    public async Task AnUnknownCodeLeavesNoActivationBehind()
    {
        var code = "NOPE" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        await api.PutDealerAsync(Dealer);
        var dealer = api.Client(await api.CreateKeyAsync("dealer", Dealer));

        var redeemed = await dealer.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, Dealer)));

        Assert.Equal("coupon_not_found", await ApiFixture.CodeOf(redeemed));
        await AssertLeavesMemoryAsync(code);
    }

    /// <summary>Whether the silo's catalog holds the coupon's activation (the directory's cache may lag behind it).</summary>
    private async Task<bool> IsActiveAsync(string code)
    {
        var id = Grains.GetGrain<ICouponGrain>(GrainKeys.Coupon(code)).GetGrainId();
        var activations = await Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return activations.Any(a => a.GrainId == id);
    }

    /// <summary>Deactivation follows the last call's turn: waits for the catalog to lose the grain.</summary>
    private async Task AssertLeavesMemoryAsync(string code)
    {
        var deadline = DateTime.UtcNow + s_deactivationDeadline;
        while (await IsActiveAsync(code))
        {
            Assert.True(DateTime.UtcNow < deadline, $"coupon {code} is still active after {s_deactivationDeadline.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
