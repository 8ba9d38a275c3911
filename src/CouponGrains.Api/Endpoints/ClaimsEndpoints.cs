using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Settlement;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Claim = CouponGrains.Contracts.Settlement.Claim;

namespace CouponGrains.Api.Endpoints;

public sealed class ClaimDocumentRequest
{
    public string? Uri { get; set; }
    public string? Sha256 { get; set; }
}

public sealed class ClaimRequest
{
    public string? DealerId { get; set; }
    public string? CampaignId { get; set; }
    /// <summary><c>goodwill</c>, <c>warranty</c> or <c>retro_rebate</c>.</summary>
    public string? Kind { get; set; }
    public long? Amount { get; set; }
    public string? Currency { get; set; }
    public string? Description { get; set; }
    public ClaimDocumentRequest[]? Documents { get; set; }
}

public sealed class ClaimDecisionRequest
{
    /// <summary><c>approve</c>, <c>partially_accept</c> or <c>reject</c>.</summary>
    public string? Decision { get; set; }
    public long? AcceptedAmount { get; set; }
    public string? ReasonCode { get; set; }
    public string? Note { get; set; }
}

/// <summary>Claims: a dealer submits (goodwill, warranty, retro rebate) with documents; finance approves, partially accepts or rejects.</summary>
public static class ClaimsEndpoints
{
    private const long MaxAmount = 1_000_000_000_000;

    public static RouteGroupBuilder MapClaimsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/claims").WithTags("Claims");
        group.MapPost("/", SubmitAsync).WithName("SubmitClaim")
            .WithSummary("Submit a claim with document references (URI + SHA-256); a dealer key for its own dealer").RequireAuthorization(Policies.Settlement);
        group.MapGet("/", ListAsync).WithName("ListClaims").WithSummary("Claims, newest first; a dealer key sees its own").RequireAuthorization(Policies.Settlement);
        group.MapGet("/{id}", GetAsync).WithName("GetClaim").WithSummary("One claim").RequireAuthorization(Policies.Settlement);
        group.MapPost("/{id}/decision", DecideAsync).WithName("DecideClaim")
            .WithSummary("Approve, partially accept (acceptedAmount) or reject (reasonCode) a submitted claim").RequireAuthorization(Policies.Finance);
        return group;
    }

    public static async Task<Results<Created<Claim>, ProblemHttpResult>> SubmitAsync(IGrainFactory grains, ClaimsPrincipal user, ClaimRequest? body)
    {
        var dealerId = body?.DealerId ?? user.DealerId();
        if (dealerId is not null && CodeFormat.IsValidId(dealerId) && !user.MayAccessDealer(dealerId))
        {
            return Problems.Forbidden("A dealer key submits claims only for its own dealer.");
        }

        var errors = new List<FieldError>();
        if (!CodeFormat.IsValidId(dealerId))
        {
            errors.Add(new("dealerId", "is required: 1-64 characters of letters, digits, '-', '_', '.', ':'."));
        }

        PipelineQuery.Id(body?.CampaignId, "campaignId", errors);
        if (body?.Kind is null || Array.IndexOf(ClaimKinds.All, body.Kind) < 0)
        {
            errors.Add(new("kind", $"must be one of {string.Join(", ", ClaimKinds.All)}."));
        }

        if (body?.Amount is not (> 0 and <= MaxAmount))
        {
            errors.Add(new("amount", "must be a positive whole number of minor units."));
        }

        if (!Currencies.IsKnown(body?.Currency))
        {
            errors.Add(new("currency", "must be a known ISO 4217 currency code."));
        }

        if (!CodeFormat.IsValidText(body?.Description, 2000))
        {
            errors.Add(new("description", "is required: 1-2000 characters without control characters."));
        }

        var documents = body?.Documents ?? [];
        if (documents.Length is 0 or > 20)
        {
            errors.Add(new("documents", "must list 1-20 documents."));
        }

        for (var i = 0; i < documents.Length && i < 20; i++)
        {
            if (!Uri.TryCreate(documents[i]?.Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http" or "s3" or "urn")
                || documents[i].Uri!.Length > 2000)
            {
                errors.Add(new($"documents[{i}].uri", "must be an absolute https, http, s3 or urn URI."));
            }

            if (documents[i]?.Sha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigit))
            {
                errors.Add(new($"documents[{i}].sha256", "must be the document's SHA-256 as 64 hex digits."));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var claim = await grains.Ref<ISettlementGrain>(0).SubmitClaimAsync(new ClaimSubmission
        {
            DealerId = dealerId!,
            CampaignId = body!.CampaignId,
            Kind = body.Kind!,
            Amount = body.Amount!.Value,
            Currency = body.Currency!,
            Description = body.Description!,
            Documents = documents.Select(d => new ClaimDocument(d.Uri!, d.Sha256!.ToLowerInvariant())).ToArray(),
        }, user.ToActor());
        return TypedResults.Created($"/api/v1/claims/{claim.Id}", claim);
    }

    public static async Task<Results<Ok<Claim[]>, ProblemHttpResult>> ListAsync(IGrainFactory grains, ClaimsPrincipal user, string? dealerId,
        string? status, string? limit)
    {
        var errors = new List<FieldError>();
        PipelineQuery.Id(dealerId, "dealerId", errors);
        PipelineQuery.OneOf(status, "status",
            [ClaimStatuses.Submitted, ClaimStatuses.Approved, ClaimStatuses.PartiallyAccepted, ClaimStatuses.Rejected], errors);
        var size = PipelineQuery.Limit(limit, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (!user.MayAccessDealer(dealerId ?? user.DealerId()))
        {
            return Problems.Forbidden("A dealer key reads only its own claims.");
        }

        return TypedResults.Ok(await grains.Ref<ISettlementGrain>(0).ListClaimsAsync(user.DealerId() ?? dealerId, status, size));
    }

    public static async Task<Results<Ok<Claim>, ProblemHttpResult>> GetAsync(IGrainFactory grains, ClaimsPrincipal user, string id)
    {
        var claim = CodeFormat.IsValidId(id) ? await grains.Ref<ISettlementGrain>(0).GetClaimAsync(id) : null;
        return claim is not null && user.MayAccessDealer(claim.Submission.DealerId) ? TypedResults.Ok(claim) : Problems.NotFound("claim");
    }

    public static async Task<Results<Ok<Claim>, ProblemHttpResult>> DecideAsync(IGrainFactory grains, ClaimsPrincipal user, string id,
        ClaimDecisionRequest? body)
    {
        if (!CodeFormat.IsValidId(id))
        {
            return Problems.NotFound("claim");
        }

        var errors = new List<FieldError>();
        ClaimDecisionKind? kind = body?.Decision switch
        {
            "approve" => ClaimDecisionKind.Approve,
            "partially_accept" => ClaimDecisionKind.PartiallyAccept,
            "reject" => ClaimDecisionKind.Reject,
            _ => null,
        };
        if (kind is null)
        {
            errors.Add(new("decision", "must be approve, partially_accept or reject."));
        }

        if (kind is ClaimDecisionKind.Reject or ClaimDecisionKind.PartiallyAccept
            && (body?.ReasonCode is null || Array.IndexOf(ClaimReasonCodes.All, body.ReasonCode) < 0))
        {
            errors.Add(new("reasonCode", $"is required to reject or cut a claim: one of {string.Join(", ", ClaimReasonCodes.All)}."));
        }

        if (body?.Note is not null && !CodeFormat.IsValidText(body.Note, 2000))
        {
            errors.Add(new("note", "must be 1-2000 characters without control characters."));
        }

        var grain = grains.Ref<ISettlementGrain>(0);
        if (kind == ClaimDecisionKind.PartiallyAccept)
        {
            var claim = await grain.GetClaimAsync(id);
            if (claim is null)
            {
                return Problems.NotFound("claim");
            }

            if (body?.AcceptedAmount is not { } accepted || accepted <= 0 || accepted >= claim.Submission.Amount)
            {
                errors.Add(new("acceptedAmount", "must be more than 0 and less than the claimed amount."));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var result = await grain.DecideClaimAsync(id, new ClaimDecision
        {
            Decision = kind!.Value,
            AcceptedAmount = body!.AcceptedAmount,
            ReasonCode = body.ReasonCode,
            Note = body.Note,
        }, user.ToActor());
        return result.Status switch
        {
            ClaimDecisionStatus.Done => TypedResults.Ok(result.Claim!),
            ClaimDecisionStatus.NotFound => Problems.NotFound("claim"),
            _ => Problems.Conflict("already_decided", "This claim was already decided."),
        };
    }
}
