using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Core.Internal;
using Orleans.GrainDirectory;

namespace CouponGrains.IntegrationTests.Durability;

/// <summary>
/// Holds live in memory: when a cap grain is activated afresh while a hold of its previous activation is
/// still waiting to commit (its silo died or stopped), the new activation cannot know that hold and grants
/// the same room again. These tests force exactly that and show the ledger refuses the old hold's commit,
/// so the cap is never exceeded.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class HoldFenceTests(ApiFixture api)
{
    private const string Dealer = "D-FENCE";

    private IGrainFactory Grains => api.Services.GetRequiredService<IGrainFactory>();

    private RedemptionLedger Ledger => api.Services.GetRequiredService<RedemptionLedger>();

    [Fact]
    public void EveryGrainIsRegisteredInTheStronglyConsistentDirectory()
    {
        // Orleans' default directory lets two activations of one cap grain overlap while membership changes; the
        // fences keep that safe, but the superseded one's holds are turned away. The directory registered under the
        // default name serves every grain type that names none.
        var directory = api.Services.GetKeyedService<IGrainDirectory>(GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY);
        Assert.NotNull(directory);
        Assert.Equal("DistributedGrainDirectory", directory.GetType().Name);
    }

    [Fact]
    public async Task ACapShardHoldOfAReplacedActivationCannotCommit()
    {
        var campaign = "C-FENCE-" + Guid.NewGuid().ToString("N")[..8];
        var slot = new CapSlot(CapKind.DealerCount, campaign, Dealer);
        var shard = Grains.GetGrain<ICapShardGrain>(slot.ShardKey);
        var fenceKey = shard.GetGrainId().ToString();

        var old = await shard.TryHoldAsync("R-fence-old-" + campaign, [new CapHold(slot.Key, 1, 1)]);
        Assert.Equal(-1, old.Refused);

        // The first activation goes away with its hold pending; the next one does not know of it.
        await shard.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var fresh = await shard.TryHoldAsync("R-fence-new-" + campaign, [new CapHold(slot.Key, 1, 1)]);
        Assert.Equal(-1, fresh.Refused);
        Assert.True(fresh.Fence > old.Fence, $"a new activation takes a new epoch ({old.Fence} → {fresh.Fence})");

        var late = await Ledger.AppendAsync(Entry("R-fence-old-" + campaign, campaign, new HoldFence(fenceKey, old.Fence)));
        var current = await Ledger.AppendAsync(Entry("R-fence-new-" + campaign, campaign, new HoldFence(fenceKey, fresh.Fence)));

        Assert.Equal(AppendStatus.Fenced, late);
        Assert.Equal(AppendStatus.Committed, current);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status <> 'aborted'", campaign));
        var usage = await shard.GetUsageAsync(slot.Key);
        Assert.Equal(1, usage.Used + usage.Held); // the confirm is one-way and may still be on its way
        Assert.Equal(1, await ReadCapAsync(slot));
    }

    [Fact]
    public async Task ASingleUseCouponHeldByAReplacedActivationIsUsedOnceThroughTheApi()
    {
        await api.PutDealerAsync(Dealer);
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign, maxUses: 1);
        var coupon = Grains.GetGrain<ICouponGrain>(GrainKeys.Coupon(code));
        var fenceKey = coupon.GetGrainId().ToString();

        var old = await coupon.TryHoldAsync("R-fence-coupon-old", Dealer);
        Assert.Null(old.Rejection);
        await coupon.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        // A real redemption of the same single-use code reaches the new activation, which grants the use.
        var redeemed = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, Dealer)));
        Assert.Equal(System.Net.HttpStatusCode.Created, redeemed.StatusCode);

        // The old activation's hold now tries to commit the same use: refused.
        var late = await Ledger.AppendAsync(Entry("R-fence-coupon-old", campaign, new HoldFence(fenceKey, old.Fence), code));
        Assert.Equal(AppendStatus.Fenced, late);

        Assert.Equal(1, await CountAsync("SELECT count(*) FROM redemptions WHERE code = @c AND status <> 'aborted'", code));
        var view = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/coupons/{code}");
        Assert.Equal(1, view!["uses"]!.GetValue<int>());
    }

    /// <summary>
    /// While membership changes, two activations of one key can overlap, and the one that stays may hold the older
    /// epoch: every hold it grants is then fenced out at commit. Simulated here by taking the key's next epoch as
    /// another activation would. The first redemption through the superseded activation is answered 503 (nothing
    /// counted); told so, the activation deactivates, and the retry is served by a fresh one. Before, every retry was
    /// fenced out again, for as long as the activation lived (a rolling restart of three silos once failed 16 users
    /// that way for 17 s).
    /// </summary>
    [Theory]
    [InlineData("campaign")]
    [InlineData("cap shard")]
    public async Task AnActivationWhoseFenceWasTakenStepsAsideInsteadOfFencingOutEveryRetry(string superseded)
    {
        await api.PutDealerAsync(Dealer);
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);
        var first = await api.Admin.SendAsync(ApiFixture.Redeem(ApiFixture.Order(code, Dealer)));
        Assert.Equal(System.Net.HttpStatusCode.Created, first.StatusCode);

        IGrain grain = superseded == "campaign"
            ? Grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(campaign))
            : Grains.GetGrain<ICapShardGrain>(new CapSlot(CapKind.OrderCodes, CapSlot.OrdersScope, Dealer, "SO-any").ShardKey);
        Assert.Equal(1, await ExecuteAsync("UPDATE hold_fences SET epoch = epoch + 1 WHERE key = @c", grain.GetGrainId().ToString()));

        var order = ApiFixture.Order(code, Dealer);
        var key = Guid.NewGuid().ToString("N");
        var fenced = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, fenced.StatusCode);

        var retried = await api.Admin.SendAsync(ApiFixture.Redeem(order, key));
        Assert.Equal(System.Net.HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM redemptions WHERE campaign_id = @c AND status = 'committed'", campaign));
    }

    private static LedgerEntry Entry(string id, string campaign, HoldFence fence, string code = "FENCE-CODE") =>
        new(new RedemptionRecord
        {
            Id = id, Code = code, CampaignId = campaign, DealerId = Dealer, Discount = 100, Currency = "INR",
            Status = RedemptionStatuses.Committed, RedeemedAt = DateTimeOffset.UtcNow,
        }, Dealer, "key-" + id, "hash", Actor.System, new HeldCaps(false, [], [fence]));

    /// <summary>What a brand-new activation of the slot would load: the ledger's count.</summary>
    private async Task<long> ReadCapAsync(CapSlot slot) =>
        (await Ledger.TotalsAsync(CapScope.Dealer, slot.CampaignId, slot.Member)).Count;

    private Task<int> ExecuteAsync(string sql, string value) => RunAsync(sql, value, command => command.ExecuteNonQueryAsync());

    private Task<long> CountAsync(string sql, string value) => RunAsync(sql, value, async command => (long)(await command.ExecuteScalarAsync())!);

    private async Task<T> RunAsync<T>(string sql, string value, Func<NpgsqlCommand, Task<T>> run)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("c", value);
        return await run(command);
    }
}
