using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Api.Models;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed record ApiKeyListResponse(ApiKeyInfo[] Items, string? Next);

public static class ApiKeyEndpoints
{
    public static RouteGroupBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api-keys").WithTags("API keys");
        group.MapPost("/", CreateAsync).WithName("CreateApiKey").WithSummary("Issue an API key (shown once)")
            .RequireAuthorization(Policies.Admin);
        group.MapGet("/", ListAsync).WithName("ListApiKeys").WithSummary("List API keys (never their secrets)")
            .RequireAuthorization(Policies.Admin);
        group.MapDelete("/{id}", RevokeAsync).WithName("RevokeApiKey").WithSummary("Revoke an API key for good")
            .RequireAuthorization(Policies.Admin);
        group.MapPost("/{id}/rotation", RotateAsync).WithName("RotateApiKey")
            .WithSummary("Give a key a new secret (shown once); the old one stops working after the configured grace")
            .RequireAuthorization(Policies.Admin);
        return group;
    }

    public static async Task<Results<Ok<ApiKeyListResponse>, ProblemHttpResult>> ListAsync(
        IGrainFactory grains, bool? includeRevoked, string? limit, string? after)
    {
        var size = 100;
        if (limit is not null && (!int.TryParse(limit, out size) || size is < 1 or > 500))
        {
            return Problems.Invalid("limit", "must be from 1 to 500.");
        }

        if (after is not null && !CodeFormat.IsValidId(after))
        {
            return Problems.Invalid("after", "must be a key id from a previous page.");
        }

        var keys = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).ListAsync(includeRevoked ?? false, size, after);
        return TypedResults.Ok(new ApiKeyListResponse(keys, keys.Length == size ? keys[^1].Id : null));
    }

    public static async Task<Results<Ok<ApiKeyInfo>, ProblemHttpResult>> RevokeAsync(
        string id, ClaimsPrincipal user, IGrainFactory grains, ApiKeyCache cache)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("API key");
        }

        var change = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).RevokeAsync(id, user.ToActor());
        cache.Invalidate(id);
        return change.Status switch
        {
            ApiKeyChangeStatus.Done => TypedResults.Ok(change.Key!),
            ApiKeyChangeStatus.NotFound => Problems.NotFound("API key"),
            ApiKeyChangeStatus.LastAdminKey => Problems.Conflict("last_admin_key", "The last active admin key cannot be revoked."),
            _ => Problems.Conflict("api_key_revoked", "The key is revoked already."),
        };
    }

    public static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> RotateAsync(
        string id, ClaimsPrincipal user, IGrainFactory grains, ApiKeyCache cache, ApiOptions options)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("API key");
        }

        var grace = TimeSpan.FromSeconds(Math.Max(0, options.KeyRotationGraceSeconds));
        var change = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).RotateAsync(id, grace, user.ToActor());
        if (grace == TimeSpan.Zero)
        {
            cache.Invalidate(id);
        }

        return change.Status switch
        {
            ApiKeyChangeStatus.Done => TypedResults.Ok(new ApiKeyResponse(id, change.NewKey!, change.Key!.Name, change.Key.Role, change.Key.DealerId)),
            ApiKeyChangeStatus.NotFound => Problems.NotFound("API key"),
            _ => Problems.Conflict("api_key_revoked", "A revoked key cannot be rotated."),
        };
    }

    public static async Task<Results<Created<ApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        ApiKeyRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new List<FieldError>();
        if (!CodeFormat.IsValidText(body.Name, 200))
        {
            errors.Add(new("name", "is required: 1-200 characters without control characters."));
        }

        if (!Roles.IsKnown(body.Role))
        {
            errors.Add(new("role", $"must be one of {string.Join(", ", Roles.All)}."));
        }
        else if (body.Role == Roles.Dealer && !CodeFormat.IsValidId(body.DealerId))
        {
            errors.Add(new("dealerId", "is required for a dealer key: 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
        }
        else if (body.Role != Roles.Dealer && body.DealerId is not null)
        {
            errors.Add(new("dealerId", "must be omitted for staff keys."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var issued = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).IssueAsync(body.Name!, body.Role!, body.DealerId, user.ToActor());
        return TypedResults.Created($"/api/v1/api-keys/{issued.Id}",
            new ApiKeyResponse(issued.Id, issued.Key, body.Name!, body.Role!, body.DealerId));
    }
}
