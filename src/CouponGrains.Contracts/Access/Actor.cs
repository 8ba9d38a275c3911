namespace CouponGrains.Contracts.Access;

public static class Roles
{
    public const string Admin = "admin";
    public const string Marketing = "marketing";
    public const string Finance = "finance";
    public const string Approver = "approver";
    public const string Ops = "ops";
    public const string Dealer = "dealer";

    public static readonly string[] Staff = [Admin, Marketing, Finance, Approver, Ops];
    public static readonly string[] All = [Admin, Marketing, Finance, Approver, Ops, Dealer];

    public static bool IsKnown(string? role) => role is not null && Array.IndexOf(All, role) >= 0;
}

/// <summary>Who did something: the API key, its role and, for dealer keys, the dealer.</summary>
[GenerateSerializer, Alias("actor"), Immutable]
public sealed record Actor([property: Id(0)] string KeyId, [property: Id(1)] string Role, [property: Id(2)] string? DealerId)
{
    public static readonly Actor System = new("system", Roles.Admin, null);
}

/// <summary>An API key as the authentication layer sees it (never the key itself).</summary>
[GenerateSerializer, Alias("api-key-principal"), Immutable]
public sealed record ApiKeyPrincipal
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string Role { get; init; }
    [Id(3)] public string? DealerId { get; init; }
}

[GenerateSerializer, Alias("issued-api-key"), Immutable]
public sealed record IssuedApiKey([property: Id(0)] string Id, [property: Id(1)] string Key);

/// <summary>An API key as listed: never the key nor its hash.</summary>
[GenerateSerializer, Alias("api-key-info"), Immutable]
public sealed record ApiKeyInfo
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string Role { get; init; }
    [Id(3)] public string? DealerId { get; init; }
    [Id(4)] public DateTimeOffset CreatedAt { get; init; }
    [Id(5)] public string? CreatedBy { get; init; }
    [Id(6)] public DateTimeOffset? RevokedAt { get; init; }
    [Id(7)] public string? RevokedBy { get; init; }
    [Id(8)] public DateTimeOffset? RotatedAt { get; init; }
    [Id(9)] public DateTimeOffset? LastUsedAt { get; init; }
}

public enum ApiKeyChangeStatus
{
    Done,
    NotFound,

    /// <summary>Revoked already: a revoked key cannot be revoked again or rotated.</summary>
    Revoked,

    /// <summary>The last active admin key cannot be revoked: nobody could administer the system any more.</summary>
    LastAdminKey,
}

[GenerateSerializer, Alias("api-key-change"), Immutable]
public sealed record ApiKeyChange
{
    [Id(0)] public ApiKeyChangeStatus Status { get; init; }
    [Id(1)] public ApiKeyInfo? Key { get; init; }

    /// <summary>After a rotation: the new key, shown once.</summary>
    [Id(2)] public string? NewKey { get; init; }
}

/// <summary>
/// Issues and resolves API keys. Keys are stored as SHA-256 hashes; the plain key is returned once.
/// </summary>
[Alias("api-keys")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Resolves a key by the hex SHA-256 of its text; null when unknown or revoked.</summary>
    [Alias("resolve")]
    Task<ApiKeyPrincipal?> ResolveAsync(string keyHashHex);

    [Alias("issue")]
    Task<IssuedApiKey> IssueAsync(string name, string role, string? dealerId, Actor actor);

    /// <summary>Keys in id order (oldest first), after the <paramref name="afterId"/> cursor; revoked ones only when asked.</summary>
    [Alias("list")]
    Task<ApiKeyInfo[]> ListAsync(bool includeRevoked, int limit, string? afterId);

    /// <summary>Revokes a key for good; audited.</summary>
    [Alias("revoke")]
    Task<ApiKeyChange> RevokeAsync(string keyId, Actor actor);

    /// <summary>Gives the key a new secret (returned once); the old one keeps working for <paramref name="grace"/>, then stops.</summary>
    [Alias("rotate")]
    Task<ApiKeyChange> RotateAsync(string keyId, TimeSpan grace, Actor actor);

    /// <summary>Records that these keys were used now (at most once a minute per key is written). One-way, off the request path.</summary>
    [Alias("touch"), Orleans.Concurrency.OneWay]
    Task TouchAsync(string[] keyIds);
}
