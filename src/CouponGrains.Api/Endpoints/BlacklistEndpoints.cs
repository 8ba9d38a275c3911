using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Fraud;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed class BlacklistRequest
{
    /// <summary><c>dealer</c>, <c>customer</c> or <c>code</c>.</summary>
    public string? Kind { get; set; }
    public string? Value { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>The blacklist: blocked dealers, customers and codes (redemptions are refused with <c>blacklisted</c>, 422).</summary>
public static class BlacklistEndpoints
{
    public static RouteGroupBuilder MapBlacklistEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/blacklist").WithTags("Blacklist").RequireAuthorization(Policies.Auditors);
        group.MapGet("/", ListAsync).WithName("ListBlacklist").WithSummary("Active blacklist entries, optionally of one kind");
        group.MapPost("/", AddAsync).WithName("AddBlacklistEntry").WithSummary("Blacklist a dealer, customer or code, with a reason and optional expiry");
        group.MapDelete("/{id}", RemoveAsync).WithName("RemoveBlacklistEntry").WithSummary("Remove a blacklist entry");
        return group;
    }

    public static async Task<Results<Ok<BlacklistEntry[]>, ProblemHttpResult>> ListAsync(IGrainFactory grains, string? kind)
    {
        var errors = new List<FieldError>();
        PipelineQuery.OneOf(kind, "kind", BlacklistKinds.All, errors);
        return errors.Count > 0 ? Problems.Invalid(errors) : TypedResults.Ok(await grains.Ref<IFraudGrain>(0).ListBlacklistAsync(kind));
    }

    public static async Task<Results<Created<BlacklistEntry>, ProblemHttpResult>> AddAsync(IGrainFactory grains, ClaimsPrincipal user,
        TimeProvider clock, BlacklistRequest? body)
    {
        var errors = new List<FieldError>();
        if (body?.Kind is null || Array.IndexOf(BlacklistKinds.All, body.Kind) < 0)
        {
            errors.Add(new("kind", "must be dealer, customer or code."));
        }

        var value = body?.Kind == BlacklistKinds.Code ? CodeFormat.NormalizeCode(body.Value) : body?.Value;
        if (body?.Kind == BlacklistKinds.Code ? value is null : !CodeFormat.IsValidId(value))
        {
            errors.Add(new("value", "must be a valid dealer id, customer id or coupon code."));
        }

        if (!CodeFormat.IsValidText(body?.Reason, 500))
        {
            errors.Add(new("reason", "is required: 1-500 characters without control characters."));
        }

        if (body?.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
        {
            errors.Add(new("expiresAt", "must be in the future."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var entry = await grains.Ref<IFraudGrain>(0).AddBlacklistAsync(body!.Kind!, value!, body.Reason!, body.ExpiresAt, user.ToActor());
        return TypedResults.Created($"/api/v1/blacklist/{entry.Id}", entry);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(IGrainFactory grains, ClaimsPrincipal user, string id) =>
        CodeFormat.IsValidId(id) && await grains.Ref<IFraudGrain>(0).RemoveBlacklistAsync(id, user.ToActor())
            ? TypedResults.NoContent()
            : Problems.NotFound("active blacklist entry");
}
