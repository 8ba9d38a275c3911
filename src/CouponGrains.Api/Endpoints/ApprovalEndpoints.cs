using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Approvals;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed class ApprovalDecisionRequest
{
    /// <summary><c>approve</c> or <c>reject</c>.</summary>
    public string? Decision { get; set; }

    /// <summary>A snake_case reason; required to reject.</summary>
    public string? ReasonCode { get; set; }
    public string? Note { get; set; }
}

public sealed record ApprovalListResponse(ApprovalView[] Items, string? Next);

/// <summary>Order-time exception approvals: the approvers' queue and their decisions.</summary>
public static class ApprovalEndpoints
{
    public static RouteGroupBuilder MapApprovalEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/approvals").WithTags("Approvals");
        group.MapGet("/", ListAsync).WithName("ListApprovals").WithSummary("The approval queue, oldest first (e.g. ?status=pending)")
            .RequireAuthorization(Policies.Approvers);
        group.MapGet("/{id}", GetAsync).WithName("GetApproval").WithSummary("Read an approval request (a dealer: its own)")
            .RequireAuthorization(Policies.Redeemers);
        group.MapPost("/{id}/decision", DecideAsync).WithName("DecideApproval")
            .WithSummary("Approve (within the role's limit) or reject a pending request").RequireAuthorization(Policies.Approvers);
        return group;
    }

    public static async Task<Results<Ok<ApprovalListResponse>, ProblemHttpResult>> ListAsync(
        IGrainFactory grains, string? status, string? dealerId, string? limit, string? after)
    {
        var errors = new List<FieldError>();
        if (status is not null && !ApprovalStatuses.IsKnown(status))
        {
            errors.Add(new("status", $"must be one of {string.Join(", ", ApprovalStatuses.All)}."));
        }

        if (dealerId is not null && !CodeFormat.IsValidId(dealerId))
        {
            errors.Add(new("dealerId", "must be a dealer id."));
        }

        var size = 100;
        if (limit is not null && (!int.TryParse(limit, out size) || size is < 1 or > 500))
        {
            errors.Add(new("limit", "must be from 1 to 500."));
        }

        if (after is not null && !CodeFormat.IsValidId(after))
        {
            errors.Add(new("after", "must be an approval id from a previous page."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var items = await grains.Ref<IApprovalGrain>(0).ListAsync(status, dealerId, size, after);
        return TypedResults.Ok(new ApprovalListResponse(items, items.Length == size ? items[^1].Id : null));
    }

    /// <summary>Staff see any request; a dealer only its own. Anything else is 404, never a hint.</summary>
    public static async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        var approval = CodeFormat.IsValidId(id) ? await grains.Ref<IApprovalGrain>(0).GetAsync(id) : null;
        return approval is null || !user.MayAccessDealer(approval.DealerId) ? Problems.NotFound("approval") : TypedResults.Ok(approval);
    }

    public static async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> DecideAsync(
        string id, ApprovalDecisionRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("approval");
        }

        var errors = new List<FieldError>();
        ApprovalDecision? decision = body.Decision switch
        {
            "approve" => ApprovalDecision.Approve,
            "reject" => ApprovalDecision.Reject,
            _ => null,
        };
        if (decision is null)
        {
            errors.Add(new("decision", "is required: approve or reject."));
        }

        if (body.ReasonCode is not null && !CampaignEndpoints.IsReasonCode(body.ReasonCode))
        {
            errors.Add(new("reasonCode", "must be 1-64 characters of a-z, 0-9 and '_'."));
        }
        else if (decision == ApprovalDecision.Reject && body.ReasonCode is null)
        {
            errors.Add(new("reasonCode", "is required to reject."));
        }

        if (body.Note is not null && !CodeFormat.IsValidText(body.Note, 2000))
        {
            errors.Add(new("note", "must be 1-2000 characters without control characters."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var result = await grains.Ref<IApprovalGrain>(0).DecideAsync(id, decision!.Value, body.ReasonCode, body.Note, user.ToActor());
        return result.Status switch
        {
            ApprovalDecisionStatus.Done => TypedResults.Ok(result.Approval!),
            ApprovalDecisionStatus.NotFound => Problems.NotFound("approval"),
            ApprovalDecisionStatus.Expired => Problems.Conflict("approval_expired", "The request expired before it was decided."),
            ApprovalDecisionStatus.AboveLimit => Problems.Of(StatusCodes.Status403Forbidden, "approval_limit_exceeded",
                $"This role may approve up to {result.Limit} minor units; the request is for {result.Approval!.Amount}.",
                new Dictionary<string, object?> { ["limit"] = result.Limit }),
            ApprovalDecisionStatus.OwnRequest => Problems.Of(StatusCodes.Status403Forbidden, "own_request",
                "Nobody decides a request they raised."),
            _ => Problems.Conflict("approval_already_decided", $"The request is {result.Approval?.Status} already."),
        };
    }
}
