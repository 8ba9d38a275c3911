using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Fraud;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Fraud;

/// <summary>The API's way to the fraud flags and the blacklist. A stateless worker, so it runs on the caller's
/// silo and a blacklist change applies there at once.</summary>
[StatelessWorker, GrainType("fraud")]
public sealed class FraudGrain(FraudStore store, Blacklist blacklist) : Grain, IFraudGrain
{
    public Task<FraudFlag[]> QueryFlagsAsync(FraudFlagQuery query) => store.QueryFlagsAsync(query);

    public Task<FlagDecisionResult> DecideAsync(long flagId, bool confirm, string? note, Actor actor) =>
        store.DecideAsync(flagId, confirm, note, actor);

    public Task<BlacklistEntry> AddBlacklistAsync(string kind, string value, string reason, DateTimeOffset? expiresAt, Actor actor) =>
        blacklist.AddAsync(kind, value, reason, expiresAt, actor);

    public Task<BlacklistEntry[]> ListBlacklistAsync(string? kind) => blacklist.ListAsync(kind);

    public Task<bool> RemoveBlacklistAsync(string id, Actor actor) => blacklist.RemoveAsync(id, actor);
}
