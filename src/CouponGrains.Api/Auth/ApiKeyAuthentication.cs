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

        var claims = new List<Claim>
        {
            new(KeyIdClaim, principal.Id),
            new(ClaimTypes.Name, principal.Name),
            new(RoleClaim, principal.Role),
        };
        if (principal.DealerId is not null)
        {
            claims.Add(new Claim(DealerClaim, principal.DealerId));
        }

        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, RoleClaim);
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

/// <summary>Caches key resolutions for a few seconds so that a request costs no grain call for its key.</summary>
public sealed class ApiKeyCache(IGrainFactory grains, TimeProvider time)
{
    private static readonly TimeSpan s_known = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_unknown = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (ApiKeyPrincipal? Principal, DateTimeOffset Until)> _entries = new(StringComparer.Ordinal);

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
            return entry.Principal;
        }

        var principal = await grains.GetGrain<IApiKeyGrain>(GrainKeys.ApiKeys).ResolveAsync(hash);
        if (_entries.Count > 100_000)
        {
            _entries.Clear();
        }

        _entries[hash] = (principal, now + (principal is null ? s_unknown : s_known));
        return principal;
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

    public static Actor ToActor(this ClaimsPrincipal user) =>
        new(user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "unknown",
            user.FindFirstValue(ApiKeyAuthenticationHandler.RoleClaim) ?? "unknown",
            user.FindFirstValue(ApiKeyAuthenticationHandler.DealerClaim));

    /// <summary>The dealer a dealer key acts for; null for staff keys.</summary>
    public static string? DealerId(this ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthenticationHandler.DealerClaim);

    /// <summary>True when this principal may see or act on an object of <paramref name="dealerId"/>.</summary>
    public static bool MayAccessDealer(this ClaimsPrincipal user, string? dealerId) =>
        user.DealerId() is not { } own || string.Equals(own, dealerId, StringComparison.Ordinal);
}
