using System.Security.Claims;
using System.Text;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Settlement;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed class CreditNoteRunRequest
{
    public string? DealerId { get; set; }
    public DateOnly? PeriodFrom { get; set; }
    public DateOnly? PeriodTo { get; set; }
}

public sealed class DeliveryProofRuleRequest
{
    public bool? Required { get; set; }
}

/// <summary>Credit notes (generated on demand or on schedule), their ERP export, reconciliation CSV and settlement rules.</summary>
public static class SettlementEndpoints
{
    public static RouteGroupBuilder MapSettlementEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/settlements").WithTags("Settlement");
        group.MapPost("/credit-notes", GenerateAsync).WithName("GenerateCreditNotes")
            .WithSummary("Credit every invoiced, not yet credited redemption of the period (invoice date), debit reversals after settlement, pay accepted claims")
            .RequireAuthorization(Policies.Finance);
        group.MapGet("/credit-notes", ListAsync).WithName("ListCreditNotes")
            .WithSummary("Credit notes, newest first (finance, admin; a dealer key sees its own)").RequireAuthorization(Policies.Settlement);
        group.MapGet("/credit-notes/{id}", GetAsync).WithName("GetCreditNote")
            .WithSummary("One credit note with its lines: the JSON an ERP imports").RequireAuthorization(Policies.Settlement);
        group.MapGet("/reconciliation.csv", ReconciliationAsync).WithName("ReconciliationCsv")
            .WithSummary("CSV: redemption → invoice → credit note → amounts, for redemptions made in [from, to]").RequireAuthorization(Policies.Finance);
        group.MapPut("/campaigns/{campaignId}/delivery-proof", SetRuleAsync).WithName("SetDeliveryProofRule")
            .WithSummary("Require (or not) a delivery proof before a campaign's redemptions are credited").RequireAuthorization(Policies.Finance);
        return group;
    }

    public static async Task<Results<Ok<CreditNote[]>, ProblemHttpResult>> GenerateAsync(IGrainFactory grains, ClaimsPrincipal user,
        CreditNoteRunRequest? body)
    {
        var errors = new List<FieldError>();
        PipelineQuery.Id(body?.DealerId, "dealerId", errors);
        if (body?.PeriodFrom is null)
        {
            errors.Add(new("periodFrom", "is required (yyyy-MM-dd)."));
        }

        if (body?.PeriodTo is null)
        {
            errors.Add(new("periodTo", "is required (yyyy-MM-dd)."));
        }
        else if (body.PeriodFrom is { } f && body.PeriodTo < f)
        {
            errors.Add(new("periodTo", "must not be before periodFrom."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return TypedResults.Ok(await grains.Ref<ISettlementGrain>(0)
            .GenerateCreditNotesAsync(body!.DealerId, body.PeriodFrom!.Value, body.PeriodTo!.Value, user.ToActor()));
    }

    public static async Task<Results<Ok<CreditNote[]>, ProblemHttpResult>> ListAsync(IGrainFactory grains, ClaimsPrincipal user,
        string? dealerId, string? limit)
    {
        var errors = new List<FieldError>();
        PipelineQuery.Id(dealerId, "dealerId", errors);
        var size = PipelineQuery.Limit(limit, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (!user.MayAccessDealer(dealerId ?? user.DealerId()))
        {
            return Problems.Forbidden("A dealer key reads only its own credit notes.");
        }

        return TypedResults.Ok(await grains.Ref<ISettlementGrain>(0).ListCreditNotesAsync(user.DealerId() ?? dealerId, size));
    }

    public static async Task<Results<Ok<CreditNote>, ProblemHttpResult>> GetAsync(IGrainFactory grains, ClaimsPrincipal user, string id)
    {
        var note = CodeFormat.IsValidId(id) ? await grains.Ref<ISettlementGrain>(0).GetCreditNoteAsync(id) : null;
        return note is not null && user.MayAccessDealer(note.DealerId) ? TypedResults.Ok(note) : Problems.NotFound("credit note");
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ReconciliationAsync(IGrainFactory grains, string? dealerId,
        string? from, string? to)
    {
        var errors = new List<FieldError>();
        PipelineQuery.Id(dealerId, "dealerId", errors);
        var since = PipelineQuery.Date(from, "from", errors);
        var until = PipelineQuery.Date(to, "to", errors);
        if (since is null && from is null)
        {
            errors.Add(new("from", "is required (yyyy-MM-dd)."));
        }

        if (until is null && to is null)
        {
            errors.Add(new("to", "is required (yyyy-MM-dd)."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var csv = await grains.Ref<ISettlementGrain>(0).ReconciliationCsvAsync(dealerId, since!.Value, until!.Value);
        return TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", $"reconciliation-{from}-{to}.csv");
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SetRuleAsync(IGrainFactory grains, ClaimsPrincipal user, string campaignId,
        DeliveryProofRuleRequest? body)
    {
        if (!CodeFormat.IsValidId(campaignId))
        {
            return Problems.NotFound("campaign");
        }

        if (body?.Required is not { } required)
        {
            return Problems.Invalid("required", "is required: true or false.");
        }

        // A rule for a campaign that does not exist would sit there unnoticed (a typo in the id).
        if (await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId)).GetAsync() is null)
        {
            return Problems.NotFound("campaign");
        }

        await grains.Ref<ISettlementGrain>(0).SetDeliveryProofRequiredAsync(campaignId, required, user.ToActor());
        return TypedResults.NoContent();
    }
}
