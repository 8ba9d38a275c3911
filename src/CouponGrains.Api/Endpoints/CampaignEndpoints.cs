using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Api.Models;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public static class CampaignEndpoints
{
    public static RouteGroupBuilder MapCampaignEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/campaigns").WithTags("Campaigns");
        group.MapPost("/", CreateAsync).WithName("CreateCampaign").WithSummary("Create a campaign (draft)")
            .RequireAuthorization(Policies.CampaignEditors);
        group.MapGet("/{id}", GetAsync).WithName("GetCampaign").WithSummary("Read a campaign with its live budget")
            .RequireAuthorization(Policies.Staff);
        foreach (var (route, action, policy, summary) in Lifecycle)
        {
            group.MapPost($"/{{id}}/{route}", (string id, LifecycleRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
                    TransitionAsync(id, action, body, user, grains))
                .WithName($"{action}Campaign").WithSummary(summary).RequireAuthorization(policy);
        }

        group.MapPost("/{id}/coupons", IssueCouponsAsync).WithName("IssueCoupons")
            .WithSummary("Generate coupon codes in bulk, or create one named code").RequireAuthorization(Policies.CampaignEditors);
        return group;
    }

    /// <summary>The lifecycle actions: route, action, who may do it.</summary>
    private static readonly (string Route, LifecycleAction Action, string Policy, string Summary)[] Lifecycle =
    [
        ("submit", LifecycleAction.Submit, Policies.CampaignEditors, "Submit a draft for finance approval"),
        ("approve", LifecycleAction.Approve, Policies.Finance, "Approve a pending campaign"),
        ("reject", LifecycleAction.Reject, Policies.Finance, "Reject a pending campaign"),
        ("pause", LifecycleAction.Pause, Policies.CampaignEditors, "Pause an active campaign"),
        ("resume", LifecycleAction.Resume, Policies.CampaignEditors, "Resume a paused campaign"),
        ("close", LifecycleAction.Close, Policies.CampaignEditors, "Close a campaign for good"),
    ];

    public static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateAsync(
        CampaignRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new List<FieldError>();
        if (body.ToContract(errors) is not { } definition)
        {
            return Problems.Invalid(errors);
        }

        var id = "C-" + Guid.CreateVersion7().ToString("N")[..20];
        var result = await grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(id)).CreateAsync(definition, user.ToActor());
        return result.Status == CommandStatus.Done
            ? TypedResults.Created($"/api/v1/campaigns/{id}", result.Campaign!.ToResponse())
            : Problems.Conflict(result.Code ?? "conflict", result.Message);
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetAsync(string id, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        var view = await grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(id)).GetAsync();
        return view is null ? Problems.NotFound("campaign") : TypedResults.Ok(view.ToResponse());
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> TransitionAsync(
        string id, LifecycleAction action, LifecycleRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        if (body?.Note is { } note && !CodeFormat.IsValidText(note, 2000))
        {
            return Problems.Invalid("note", "must be 1-2000 characters without control characters.");
        }

        var result = await grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(id)).TransitionAsync(action, body?.Note, user.ToActor());
        return result.Status switch
        {
            CommandStatus.Done => TypedResults.Ok(result.Campaign!.ToResponse()),
            CommandStatus.NotFound => Problems.NotFound("campaign"),
            _ => Problems.Conflict(result.Code ?? "conflict", result.Message),
        };
    }

    public static async Task<Results<Created<CouponCodesResponse>, ProblemHttpResult>> IssueCouponsAsync(
        string id, CouponIssueRequestBody body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        var errors = new List<FieldError>();
        string? named = null;
        if (body.Code is not null)
        {
            named = CodeFormat.NormalizeCode(body.Code);
            if (named is null)
            {
                errors.Add(new("code", "must be 1-64 characters of A-Z, 0-9, '-' or '_'."));
            }
        }
        else if (body.Count is not (>= 1 and <= 100_000))
        {
            errors.Add(new("count", "is required (or a named code): from 1 to 100000."));
        }

        if (body.Prefix is not null && (body.Prefix.Length is 0 or > 12 || !body.Prefix.All(char.IsAsciiLetterOrDigit)))
        {
            errors.Add(new("prefix", "must be 1-12 letters or digits."));
        }

        if (body.DealerId is not null && !CodeFormat.IsValidId(body.DealerId))
        {
            errors.Add(new("dealerId", "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
        }

        if (body.MaxUses is < 1 or > 100_000_000)
        {
            errors.Add(new("maxUses", "must be from 1 to 100000000 when set."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var request = new CouponIssueRequest
        {
            Count = body.Count ?? 1,
            Prefix = body.Prefix?.ToUpperInvariant(),
            NamedCode = named,
            DealerId = body.DealerId,
            MaxUses = body.MaxUses,
            ExpiresAt = body.ExpiresAt,
        };
        var result = await grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(id)).IssueCouponsAsync(request, user.ToActor());
        return result.Status switch
        {
            CommandStatus.Done => TypedResults.Created($"/api/v1/campaigns/{id}", new CouponCodesResponse(id, result.Codes.Length, result.Codes)),
            CommandStatus.NotFound => Problems.NotFound("campaign"),
            CommandStatus.Invalid => Problems.Invalid(result.Code ?? "body", result.Message ?? "is invalid."),
            _ => Problems.Conflict(result.Code ?? "conflict", result.Message),
        };
    }
}
