using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CouponGrains.Api.Auth;

/// <summary>
/// Authenticates <c>X-Api-Key</c> (and, for the dashboard in a browser, HTTP Basic with the key as
/// password). Keys are resolved by their SHA-256 through the key grain and cached briefly.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string RoleClaim = "role";
    public const string DealerClaim = "dealer";
    public const string KeyIdClaim = "key_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = ReadKey(Request);
        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        var principal = await cache.ResolveAsync(key);
        if (principal is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var identity = new ApiKeyIdentity(new Actor(principal.Id, principal.Role, principal.DealerId), principal.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Basic realm=\"CouponGrains\", charset=\"UTF-8\"";
        return Problems.Write(Context, StatusCodes.Status401Unauthorized, "unauthorized",
            $"A valid API key is required in the {HeaderName} header.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "forbidden", "This API key's role may not do this.");

    private static string? ReadKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && header.Count == 1 && !string.IsNullOrEmpty(header[0]))
        {
            return header[0];
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = decoded.IndexOf(':');
                return colon >= 0 && colon < decoded.Length - 1 ? decoded[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }
}

/// <summary>
/// Caches key resolutions so that a request costs no grain call for its key. A key that is revoked or
/// rotated stops working at once on the host that handled the change (<see cref="Invalidate"/>) and
/// within <see cref="KnownFor"/> (10 s) on every other host. Also notes which keys were used, for
/// <see cref="ApiKeyUsageFlusher"/> to record off the request path, at most once a minute per key.
/// </summary>
public sealed class ApiKeyCache(IGrainFactory grains, TimeProvider time)
{
    /// <summary>How long a resolved key is trusted without asking again: the bound on revocation across hosts.</summary>
    public static readonly TimeSpan KnownFor = TimeSpan.FromSeconds(10);

    /// <summary>How often a key's use is recorded at most.</summary>
    public static readonly TimeSpan UsageResolution = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan s_unknown = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (ApiKeyPrincipal? Principal, DateTimeOffset Until)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastMarked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _used = new(StringComparer.Ordinal);

    public async ValueTask<ApiKeyPrincipal?> ResolveAsync(string key)
    {
        if (key.Length > 200)
        {
            return null;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(hash, out var entry) && entry.Until > now)
        {
            MarkUsed(entry.Principal, now);
            return entry.Principal;
        }

        var principal = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).ResolveAsync(hash);
        if (_entries.Count > 100_000)
        {
            _entries.Clear();
        }

        _entries[hash] = (principal, now + (principal is null ? s_unknown : KnownFor));
        MarkUsed(principal, now);
        return principal;
    }

    /// <summary>Forgets every cached resolution of <paramref name="keyId"/> (after a revoke or rotation on this host).</summary>
    public void Invalidate(string keyId)
    {
        foreach (var (hash, entry) in _entries)
        {
            if (entry.Principal?.Id == keyId)
            {
                _entries.TryRemove(hash, out _);
            }
        }
    }

    /// <summary>The keys used since the last call, each at most once a minute.</summary>
    public string[] TakeUsed()
    {
        var ids = _used.Keys.ToArray();
        foreach (var id in ids)
        {
            _used.TryRemove(id, out _);
        }

        if (_lastMarked.Count > 100_000)
        {
            _lastMarked.Clear();
        }

        return ids;
    }

    private void MarkUsed(ApiKeyPrincipal? principal, DateTimeOffset now)
    {
        // A read per request; a write once a minute per key.
        if (principal is null || (_lastMarked.TryGetValue(principal.Id, out var last) && now - last < UsageResolution))
        {
            return;
        }

        _lastMarked[principal.Id] = now;
        _used.TryAdd(principal.Id, 0);
    }
}

/// <summary>Writes the keys' last-use times every 15 s, in one one-way call, off the request path.</summary>
public sealed class ApiKeyUsageFlusher(ApiKeyCache cache, IGrainFactory grains, TimeProvider time, ILogger<ApiKeyUsageFlusher> logger)
    : Microsoft.Extensions.Hosting.BackgroundService
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; the uses not yet written are lost, which only makes last-used a minute staler.
        }
    }

    /// <summary>Records the pending uses now.</summary>
    public async Task FlushAsync()
    {
        var used = cache.TakeUsed();
        if (used.Length == 0)
        {
            return;
        }

        try
        {
            await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).TouchAsync(used);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Last-use times are informative; losing one flush is harmless.
            logger.LogWarning(e, "Recording API key use failed");
        }
    }
}

/// <summary>
/// An authenticated API key: its claims (key id, name, role, dealer), and the <see cref="Contracts.Access.Actor"/>
/// they describe, so that every request reads who is calling once instead of searching the claims each time.
/// </summary>
public sealed class ApiKeyIdentity : ClaimsIdentity
{
    public ApiKeyIdentity(Actor actor, string name)
        : base(ClaimsOf(actor, name), ApiKeyAuthenticationHandler.SchemeName, ClaimTypes.Name, ApiKeyAuthenticationHandler.RoleClaim) =>
        Caller = actor;

    private ApiKeyIdentity(ApiKeyIdentity other) : base(other) => Caller = other.Caller;

    /// <summary>The key as the grains know a caller (not <see cref="ClaimsIdentity.Actor"/>, which is delegation).</summary>
    public Actor Caller { get; }

    public override ClaimsIdentity Clone() => new ApiKeyIdentity(this);

    private static IEnumerable<Claim> ClaimsOf(Actor actor, string name)
    {
        yield return new Claim(ApiKeyAuthenticationHandler.KeyIdClaim, actor.KeyId);
        yield return new Claim(ClaimTypes.Name, name);
        yield return new Claim(ApiKeyAuthenticationHandler.RoleClaim, actor.Role);
        if (actor.DealerId is not null)
        {
            yield return new Claim(ApiKeyAuthenticationHandler.DealerClaim, actor.DealerId);
        }
    }
}

/// <summary>Named authorization policies: the role matrix of the API.</summary>
public static class Policies
{
    public const string Admin = "admin";
    public const string CampaignEditors = "campaign-editors";
    public const string Finance = "finance";
    public const string Staff = "staff";
    public const string Ops = "ops";
    public const string Redeemers = "redeemers";
    public const string Approvers = "approvers";
    public const string Auditors = "auditors";

    /// <summary>Claims and credit notes: finance and admin see all of settlement, a dealer key only its own.</summary>
    public const string Settlement = "settlement";

    /// <summary>Who is calling: read once when the key was authenticated, or from the claims of any other principal.</summary>
    public static Actor ToActor(this ClaimsPrincipal user) =>
        user.Identity is ApiKeyIdentity key
            ? key.Caller
            : new(user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "unknown",
                user.FindFirstValue(ApiKeyAuthenticationHandler.RoleClaim) ?? "unknown",
                user.FindFirstValue(ApiKeyAuthenticationHandler.DealerClaim));

    /// <summary>The dealer a dealer key acts for; null for staff keys.</summary>
    public static string? DealerId(this ClaimsPrincipal user) =>
        user.Identity is ApiKeyIdentity key ? key.Caller.DealerId : user.FindFirstValue(ApiKeyAuthenticationHandler.DealerClaim);

    /// <summary>True for a dealer's key (bound to one dealer), false for staff.</summary>
    public static bool IsDealerKey(this ClaimsPrincipal user) => user.DealerId() is not null;

    /// <summary>True when this principal may see or act on an object of <paramref name="dealerId"/>.</summary>
    public static bool MayAccessDealer(this ClaimsPrincipal user, string? dealerId) =>
        user.DealerId() is not { } own || string.Equals(own, dealerId, StringComparison.Ordinal);
}
