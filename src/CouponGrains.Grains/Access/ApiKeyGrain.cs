using CouponGrains.Contracts.Access;
using CouponGrains.Grains.Storage;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Access;

/// <summary>Issues, resolves, lists, revokes and rotates API keys. Stateless: the keys table is the truth, API hosts cache briefly.</summary>
[GrainType("api-keys"), StatelessWorker]
public sealed class ApiKeyGrain(ApiKeyStore keys) : Grain, IApiKeyGrain
{
    public Task<ApiKeyPrincipal?> ResolveAsync(string keyHashHex) => keys.ResolveAsync(keyHashHex);

    public async Task<IssuedApiKey> IssueAsync(string name, string role, string? dealerId, Actor actor)
    {
        if (!Roles.IsKnown(role) || (role == Roles.Dealer) != (dealerId is not null))
        {
            throw new ArgumentException("A dealer key needs a dealer id and a staff key must not have one.");
        }

        var id = "K-" + Guid.CreateVersion7().ToString("N")[..20];
        var key = ApiKeyStore.NewKey();
        await keys.InsertAsync(id, name, role, dealerId, ApiKeyStore.Hash(key), actor);
        return new IssuedApiKey(id, key);
    }

    public Task<ApiKeyInfo[]> ListAsync(bool includeRevoked, int limit, string? afterId) => keys.ListAsync(includeRevoked, limit, afterId);

    public Task<ApiKeyChange> RevokeAsync(string keyId, Actor actor) => keys.RevokeAsync(keyId, actor);

    public Task<ApiKeyChange> RotateAsync(string keyId, TimeSpan grace, Actor actor) => keys.RotateAsync(keyId, grace, actor);

    public Task TouchAsync(string[] keyIds) => keys.TouchAsync(keyIds);
}
