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
}
