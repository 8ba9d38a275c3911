using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using CouponGrains.Api.Abuse;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Endpoints;
using CouponGrains.Api.Http;
using CouponGrains.Api.Observability;
using CouponGrains.Contracts.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;

namespace CouponGrains.Api;

/// <summary>Settings under <c>Api</c>.</summary>
public sealed class ApiOptions
{
    public string? BootstrapAdminKey { get; set; }

    /// <summary>Requests per second each dealer key may make (token bucket); 0 disables the limit.</summary>
    public int DealerRequestsPerSecond { get; set; } = 500;

    /// <summary>Burst allowance of a dealer key.</summary>
    public int DealerBurst { get; set; } = 1000;

    /// <summary>After a rotation, how long the previous secret keeps working (0: it stops at once).</summary>
    public int KeyRotationGraceSeconds { get; set; }
}

/// <summary>
/// The HTTP API, defined once and mapped by either host: the silo (co-hosted, the single-machine
/// default) or the separate API tier in <c>client/</c>. Both give it an <c>IGrainFactory</c>.
/// </summary>
public static class ApiHostingExtensions
{
    public const string RateLimitPolicy = "per-key";

    public static IServiceCollection AddCouponGrainsApi(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Api").Get<ApiOptions>() ?? new ApiOptions();
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyUsageFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<ApiKeyUsageFlusher>());
        var abuse = configuration.GetSection(AbuseOptions.Section).Get<AbuseOptions>() ?? new AbuseOptions();
        services.AddSingleton(abuse);
        services.AddSingleton(sp => new FailedCodeLimiter(abuse, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ILogger<FailedCodeLimiter>>()));
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(
                ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.CampaignEditors, p => p.RequireRole(Roles.Admin, Roles.Marketing))
            .AddPolicy(Policies.Finance, p => p.RequireRole(Roles.Admin, Roles.Finance))
            .AddPolicy(Policies.Ops, p => p.RequireRole(Roles.Admin, Roles.Ops))
            .AddPolicy(Policies.Staff, p => p.RequireRole(Roles.Staff))
            .AddPolicy(Policies.Approvers, p => p.RequireRole(Roles.Admin, Roles.Finance, Roles.Approver))
            .AddPolicy(Policies.Auditors, p => p.RequireRole(Roles.Admin, Roles.Finance, Roles.Ops))
            .AddPolicy(Policies.Settlement, p => p.RequireRole(Roles.Admin, Roles.Finance, Roles.Dealer))
            .AddPolicy(Policies.Redeemers, p => p.RequireRole(Roles.All));
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                // The token bucket says when the next token is due; without it, a second is the bucket's period.
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var due) ? due : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(retryAfter);
                await Problems.Write(context.HttpContext, 429, "rate_limited", "Too many requests for this API key; slow down.");
            };
            o.AddPolicy(RateLimitPolicy, http =>
            {
                // Only dealer keys are limited, each in its own partition: one dealer cannot starve another.
                var dealer = http.User.DealerId();
                if (dealer is null || options.DealerRequestsPerSecond <= 0)
                {
                    return RateLimitPartition.GetNoLimiter("staff");
                }

                // Partitioned by key id (never by dealer id or address), so each key has its own bucket.
                var key = http.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value ?? "dealer:" + dealer;
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, options.DealerBurst),
                    TokensPerPeriod = options.DealerRequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        services.AddOpenApi();
        services.AddCouponGrainsObservability(configuration);
        return services;
    }

    /// <summary>The middleware the API needs, in order; call before mapping endpoints.</summary>
    public static WebApplication UseCouponGrainsApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseMiddleware<BodySizeLimitMiddleware>();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (!http.Response.HasStarted && http.Response.ContentLength is null)
            {
                await Problems.Write(http, http.Response.StatusCode, http.Response.StatusCode == 404 ? "not_found" : "http_error",
                    http.Response.StatusCode == 404 ? "No such endpoint." : "The request failed.");
            }
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    public static RouteGroupBuilder MapCouponGrainsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").RequireRateLimiting(RateLimitPolicy)
            .AddEndpointFilter<RedemptionMetricsFilter>();
        api.MapApiKeyEndpoints();
        api.MapDealerEndpoints();
        api.MapCampaignEndpoints();
        api.MapCouponEndpoints();
        api.MapRedemptionEndpoints();
        api.MapApprovalEndpoints();
        api.MapAuditEndpoints();
        api.MapFraudEndpoints();
        api.MapBlacklistEndpoints();
        api.MapSettlementEndpoints();
        api.MapClaimsEndpoints();
        api.MapAnalyticsEndpoints();
        routes.MapCouponGrainsHealthAndMetrics();
        routes.MapOpenApi();
        routes.MapScalarApiReference("/docs");
        return api;
    }
}
