using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Grains.Redemptions;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Infrastructure;

[Collection(ApiCollection.Name)]
public sealed class RedemptionCacheTests(ApiFixture api)
{
    private static ManualTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

    private static DealerProfile Profile(string id, string region) => new() { Id = id, Name = id, Region = region, ChannelTier = ChannelTiers.Dealer };

    [Fact]
    public void AnEntryIsTrustedForItsFreshnessAndNotAfter()
    {
        var clock = Clock();
        var cache = new RedemptionCache(clock);
        cache.RememberDealer("D-1", Profile("D-1", "west"));
        cache.RememberUnlimited(new CouponView { Code = "PUBLIC", CampaignId = "C-1", Status = "active" });

        clock.Advance(RedemptionCache.Freshness - TimeSpan.FromMilliseconds(1));
        Assert.True(cache.TryGetDealer("D-1", out var profile));
        Assert.Equal("west", profile!.Region);
        Assert.Equal("C-1", cache.UnlimitedCoupon("PUBLIC")?.CampaignId);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGetDealer("D-1", out _));
        Assert.Null(cache.UnlimitedCoupon("PUBLIC"));
    }

    [Fact]
    public void RefreshingKnownKeysNeverClearsThemButTooManyNewKeysDo()
    {
        var cache = new RedemptionCache(Clock());
        cache.RememberDealer("D-1", Profile("D-1", "west"));
        for (var i = 0; i < 3 * RedemptionCache.MaxEntries; i++)
        {
            cache.RememberDealer("D-2", Profile("D-2", "east"));
        }

        Assert.True(cache.TryGetDealer("D-1", out _));
        for (var i = 0; i < RedemptionCache.MaxEntries; i++)
        {
            cache.RememberDealer($"D-N{i}", null);
        }

        Assert.False(cache.TryGetDealer("D-1", out _));
    }

    [Fact]
    public async Task ADealerUpdatedOnThisSiloIsForgottenAtOnce()
    {
        var cache = api.Services.GetRequiredService<RedemptionCache>();
        var grains = api.Services.GetRequiredService<IGrainFactory>();
        var id = "D-CACHE-" + Guid.NewGuid().ToString("N")[..8];
        cache.RememberDealer(id, Profile(id, "west"));
        Assert.True(cache.TryGetDealer(id, out _));

        await grains.Ref<IDealerGrain>(GrainKeys.Dealer(id)).UpsertAsync(Profile(id, "north"), Actor.System);
        Assert.False(cache.TryGetDealer(id, out _));
    }
}
