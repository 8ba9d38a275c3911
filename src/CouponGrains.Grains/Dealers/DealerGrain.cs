using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Redemptions;

namespace CouponGrains.Grains.Dealers;

[GenerateSerializer, Alias("dealer-state")]
public sealed class DealerState
{
    [Id(0)] public DealerProfile? Profile { get; set; }
    [Id(1)] public string? UpdatedBy { get; set; }
}

/// <summary>A dealer's profile, persisted with Orleans' ADO.NET grain storage.</summary>
[GrainType("dealer")]
public sealed class DealerGrain(
    [PersistentState(StorageNames.DealerState, StorageNames.Grains)] IPersistentState<DealerState> state,
    TimeProvider time,
    AuditLog audit,
    RedemptionCache cache) : Grain, IDealerGrain
{
    public async Task<DealerProfile> UpsertAsync(DealerProfile profile, Actor actor)
    {
        var before = state.State.Profile;
        state.State.Profile = profile with { Id = this.GetPrimaryKeyString(), UpdatedAt = time.GetUtcNow() };
        state.State.UpdatedBy = actor.KeyId;
        await state.WriteStateAsync();
        cache.ForgetDealer(state.State.Profile.Id); // other silos see the change within RedemptionCache.Freshness
        await audit.AppendAsync(AuditEntry.For(actor, AuditNames.Upserted, AuditNames.Dealer, state.State.Profile.Id) with
        {
            Before = AuditJson.Of(before),
            After = AuditJson.Of(state.State.Profile),
        }, CancellationToken.None);
        return state.State.Profile;
    }

    public Task<DealerProfile?> GetAsync() => Task.FromResult(state.State.Profile);
}
