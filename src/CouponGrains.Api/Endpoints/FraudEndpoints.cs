using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Fraud;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed class FlagDecisionRequest
{
    /// <summary><c>dismiss</c> or <c>confirm</c>.</summary>
    public string? Decision { get; set; }
    public string? Note { get; set; }
}

/// <summary>Fraud flags raised by the pipeline: filtered reads, and ops' decision on each.</summary>
public static class FraudEndpoints
{
    public static RouteGroupBuilder MapFraudEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/fraud").WithTags("Fraud");
        group.MapGet("/flags", QueryAsync).WithName("QueryFraudFlags")
            .WithSummary("Fraud flags, newest first; filter by type, dealerId, campaignId, status, from, to; page with next")
            .RequireAuthorization(Policies.Auditors);
        group.MapPost("/flags/{id}/decision", DecideAsync).WithName("DecideFraudFlag")
            .WithSummary("Dismiss or confirm an open flag, with a note (ops, admin)").RequireAuthorization(Policies.Ops);
        return group;
    }

    public static async Task<Results<Ok<FraudFlag[]>, ProblemHttpResult>> QueryAsync(IGrainFactory grains, string? type, string? dealerId,
        string? campaignId, string? status, string? from, string? to, string? limit, string? next)
    {
        var errors = new List<FieldError>();
        var query = new FraudFlagQuery
        {
            Type = PipelineQuery.OneOf(type, "type", FraudFlagTypes.All, errors),
            DealerId = PipelineQuery.Id(dealerId, "dealerId", errors),
            CampaignId = PipelineQuery.Id(campaignId, "campaignId", errors),
            Status = PipelineQuery.OneOf(status, "status", FraudFlagStatuses.All, errors),
            From = PipelineQuery.Time(from, "from", errors),
            To = PipelineQuery.Time(to, "to", errors),
            Limit = PipelineQuery.Limit(limit, errors),
            BeforeId = next is null ? null : long.TryParse(next, out var cursor) && cursor > 0 ? cursor : Bad(errors),
        };
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return TypedResults.Ok(await grains.Ref<IFraudGrain>(0).QueryFlagsAsync(query));

        static long? Bad(List<FieldError> errors)
        {
            errors.Add(new("next", "must be the id of the last flag of the previous page."));
            return null;
        }
    }

    public static async Task<Results<Ok<FraudFlag>, ProblemHttpResult>> DecideAsync(IGrainFactory grains, ClaimsPrincipal user, string id,
        FlagDecisionRequest? body)
    {
        if (!long.TryParse(id, out var flagId) || flagId <= 0)
        {
            return Problems.NotFound("fraud flag");
        }

        if (body?.Decision is not ("dismiss" or "confirm"))
        {
            return Problems.Invalid("decision", "must be dismiss or confirm.");
        }

        if (body.Note is not null && !Contracts.Coupons.CodeFormat.IsValidText(body.Note, 2000))
        {
            return Problems.Invalid("note", "must be 1-2000 characters without control characters.");
        }

        var result = await grains.Ref<IFraudGrain>(0).DecideAsync(flagId, body.Decision == "confirm", body.Note, user.ToActor());
        return result.Status switch
        {
            FlagDecisionStatus.Done => TypedResults.Ok(result.Flag!),
            FlagDecisionStatus.NotFound => Problems.NotFound("fraud flag"),
            _ => Problems.Conflict("already_decided", "This flag was already decided."),
        };
    }
}
