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
        group.MapPut("/{id}", UpdateAsync).WithName("UpdateCampaign")
            .WithSummary("Replace a campaign's definition; changed money terms send an approved campaign back to approval")
            .RequireAuthorization(Policies.CampaignEditors);
        group.MapGet("/{id}/approval", GetApprovalAsync).WithName("GetCampaignApproval")
            .WithSummary("Where a campaign stands in its approval chain").RequireAuthorization(Policies.Staff);
        group.MapPost("/{id}/projection", ProjectAsync).WithName("ProjectCampaign")
            .WithSummary("Finance projection: maximum cost and the lowest margin an order can reach, from catalogue costs")
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
        var result = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).CreateAsync(definition, user.ToActor());
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

        var view = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).GetAsync();
        return view is null ? Problems.NotFound("campaign") : TypedResults.Ok(view.ToResponse());
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> TransitionAsync(
        string id, LifecycleAction action, LifecycleRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        var errors = new List<FieldError>();
        if (body?.Note is { } note && !CodeFormat.IsValidText(note, 2000))
        {
            errors.Add(new("note", "must be 1-2000 characters without control characters."));
        }

        if (body?.ReasonCode is { } reason && !IsReasonCode(reason))
        {
            errors.Add(new("reasonCode", "must be 1-64 characters of a-z, 0-9 and '_'."));
        }

        if (action == LifecycleAction.Reject && body?.Note is null && body?.ReasonCode is null)
        {
            errors.Add(new("reasonCode", "a rejection needs a reason: reasonCode or note."));
        }

        var catalogue = body?.Catalogue is { } items ? Catalogue(items, errors) : null;
        if (catalogue is not null && action != LifecycleAction.Submit)
        {
            errors.Add(new("catalogue", "is accepted on submit only; use POST /campaigns/{id}/projection to review other costs."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var request = new TransitionRequest { Note = body?.Note, ReasonCode = body?.ReasonCode, Catalogue = catalogue };
        var result = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).TransitionWithAsync(action, request, user.ToActor());
        return ToResult(result);
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> UpdateAsync(
        string id, CampaignRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        var errors = new List<FieldError>();
        if (body.ToContract(errors) is not { } definition)
        {
            return Problems.Invalid(errors);
        }

        return ToResult(await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).UpdateAsync(definition, user.ToActor()));
    }

    public static async Task<Results<Ok<CampaignApprovalResponse>, ProblemHttpResult>> GetApprovalAsync(string id, IGrainFactory grains)
    {
        var view = CodeFormat.IsValidId(id) ? await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).GetApprovalAsync() : null;
        return view is null ? Problems.NotFound("campaign") : TypedResults.Ok(view.ToResponse());
    }

    public static async Task<Results<Ok<CampaignProjection>, ProblemHttpResult>> ProjectAsync(
        string id, ProjectionRequest? body, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("campaign");
        }

        var errors = new List<FieldError>();
        var catalogue = body?.Catalogue is { } items ? Catalogue(items, errors) : null;
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var projection = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).ProjectAsync(catalogue);
        return projection is null ? Problems.NotFound("campaign") : TypedResults.Ok(projection);
    }

    private static Results<Ok<CampaignResponse>, ProblemHttpResult> ToResult(CampaignCommandResult result) => result.Status switch
    {
        CommandStatus.Done => TypedResults.Ok(result.Campaign!.ToResponse()),
        CommandStatus.NotFound => Problems.NotFound("campaign"),
        CommandStatus.Forbidden => Problems.Of(StatusCodes.Status403Forbidden, result.Code ?? "forbidden", result.Message ?? "Not allowed."),
        _ => Problems.Conflict(result.Code ?? "conflict", result.Message),
    };

    private const int MaxCatalogueItems = 5000;

    private static CatalogueItem[]? Catalogue(CatalogueItemRequest?[] items, List<FieldError> errors)
    {
        if (items.Length > MaxCatalogueItems)
        {
            errors.Add(new("catalogue", $"may hold at most {MaxCatalogueItems} items."));
            return null;
        }

        var result = new CatalogueItem[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var field = $"catalogue[{i}]";
            if (item is null || !CodeFormat.IsValidText(item.Sku, 64))
            {
                errors.Add(new($"{field}.sku", "is required: 1-64 characters without control characters."));
                continue;
            }

            if (item.Category is not null && !CodeFormat.IsValidText(item.Category, 64))
            {
                errors.Add(new($"{field}.category", "must be 1-64 characters without control characters."));
            }

            if (item.UnitPrice is not { } price || price is < 1 or > CampaignMapping.MaxMoney)
            {
                errors.Add(new($"{field}.unitPrice", $"is required: minor units from 1 to {CampaignMapping.MaxMoney}."));
            }

            if (item.UnitCost is not { } cost || cost is < 0 or > CampaignMapping.MaxMoney)
            {
                errors.Add(new($"{field}.unitCost", $"is required: minor units from 0 to {CampaignMapping.MaxMoney}."));
            }

            result[i] = new CatalogueItem { Sku = item.Sku!, Category = item.Category, UnitPrice = item.UnitPrice ?? 0, UnitCost = item.UnitCost ?? 0 };
        }

        return errors.Count > 0 ? null : result;
    }

    /// <summary>A snake_case reason code.</summary>
    public static bool IsReasonCode(string? code) =>
        code is { Length: >= 1 and <= 64 } && code.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

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
        var result = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(id)).IssueCouponsAsync(request, user.ToActor());
        return result.Status switch
        {
            CommandStatus.Done => TypedResults.Created($"/api/v1/campaigns/{id}", new CouponCodesResponse(id, result.Codes.Length, result.Codes)),
            CommandStatus.NotFound => Problems.NotFound("campaign"),
            CommandStatus.Invalid => Problems.Invalid(result.Code ?? "body", result.Message ?? "is invalid."),
            _ => Problems.Conflict(result.Code ?? "conflict", result.Message),
        };
    }
}
