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

public static class ApiKeyEndpoints
{
    public static RouteGroupBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api-keys").WithTags("API keys");
        group.MapPost("/", CreateAsync).WithName("CreateApiKey").WithSummary("Issue an API key (shown once)")
            .RequireAuthorization(Policies.Admin);
        return group;
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

        var issued = await grains.GetGrain<IApiKeyGrain>(GrainKeys.ApiKeys).IssueAsync(body.Name!, body.Role!, body.DealerId, user.ToActor());
        return TypedResults.Created($"/api/v1/api-keys/{issued.Id}",
            new ApiKeyResponse(issued.Id, issued.Key, body.Name!, body.Role!, body.DealerId));
    }
}
