using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using CouponGrains.Api.Abuse;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Api.Models;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed class ReturnLineRequest
{
    /// <summary>The line's position in the order, as the redemption's lines report it.</summary>
    public int? Line { get; set; }
    public long? Quantity { get; set; }
}

public sealed class ReversalRequest
{
    public string? Reason { get; set; }
    /// <summary>For a partial return: the quantities coming back; omit to reverse the whole redemption.</summary>
    public ReturnLineRequest[]? Lines { get; set; }
}

public sealed class InvoiceRequest
{
    public string? InvoiceNumber { get; set; }
    public DateOnly? InvoiceDate { get; set; }
    public string? DeliveryProofRef { get; set; }
}

public static class RedemptionEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static RouteGroupBuilder MapRedemptionEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/").WithTags("Redemptions");
        group.MapPost("/validations", ValidateAsync).WithName("ValidateCoupon")
            .WithSummary("Dry-run a coupon against an order: every failing reason, nothing changes").RequireAuthorization(Policies.Redeemers);
        group.MapPost("/redemptions", RedeemAsync).WithName("RedeemCoupon")
            .WithSummary("Redeem a coupon for an order, idempotent by Idempotency-Key").RequireAuthorization(Policies.Redeemers);
        group.MapGet("/redemptions/{id}", GetAsync).WithName("GetRedemption")
            .WithSummary("Read a redemption").RequireAuthorization(Policies.Redeemers);
        group.MapPost("/redemptions/{id}/reversal", ReverseAsync).WithName("ReverseRedemption")
            .WithSummary("Reverse a redemption (once); every counter it touched is restored").RequireAuthorization(Policies.Redeemers);
        group.MapPost("/redemptions/{id}/invoice", InvoiceAsync).WithName("MapRedemptionInvoice")
            .WithSummary("Map a redemption to its invoice").RequireAuthorization(Policies.Redeemers);
        group.MapPost("/qualifications", QualifyAsync).WithName("Qualify")
            .WithSummary("The campaigns an order qualifies for, with the discount each would give now").RequireAuthorization(Policies.Redeemers);
        group.MapGet("/campaigns/{id}/rebates/{dealerId}", RebateAsync).WithName("GetRebateAccrual")
            .WithSummary("A dealer's retro-rebate accrual in a campaign").RequireAuthorization(Policies.Redeemers);
        return group;
    }

    /// <summary>The most codes one validation may stack.</summary>
    public const int MaxStackedCodes = 10;

    public static async Task<Results<Ok<ValidationResponse>, Ok<StackValidationResponse>, ProblemHttpResult>> ValidateAsync(
        OrderRequest body, HttpContext http, IGrainFactory grains, FailedCodeLimiter limiter)
    {
        var user = http.User;
        if (!user.MayAccessDealer(body.DealerId))
        {
            return Problems.Forbidden("A dealer key may only act for its own dealer.");
        }

        var keyId = user.ToActor().KeyId;
        if (limiter.IsBlocked(keyId, out var retryAfter))
        {
            return Problems.TooManyFailedCodes(http.Response, retryAfter);
        }

        var errors = new List<FieldError>();
        string[]? codes = null;
        if (body.Codes is { } raw)
        {
            codes = raw.Select(CodeFormat.NormalizeCode).ToArray()!;
            if (body.Code is not null || raw.Length is 0 or > MaxStackedCodes || codes.Any(c => c is null) || codes.Distinct().Count() != codes.Length)
            {
                return Problems.Invalid("codes", $"must list 1 to {MaxStackedCodes} distinct codes (and replaces code).");
            }

            body.Code = codes[0];
        }

        if (body.ToContract(requireOrderId: false, errors) is not { } order)
        {
            return Problems.Invalid(errors);
        }

        var validator = grains.Ref<IValidatorGrain>(0);
        if (codes is not null)
        {
            var stack = await validator.ValidateStackAsync(order, codes);
            foreach (var code in stack.Codes)
            {
                NoteUnknownCode(code.Reason?.Code, keyId, limiter);
            }

            return TypedResults.Ok(stack.ToResponse(user.IsDealerKey()));
        }

        var result = await validator.ValidateAsync(order);
        foreach (var reason in result.Reasons)
        {
            NoteUnknownCode(reason.Code, keyId, limiter);
        }

        return TypedResults.Ok(result.ToResponse(user.IsDealerKey()));
    }

    /// <summary>An unknown code, or another dealer's, counts towards the key's failed-code limit.</summary>
    private static void NoteUnknownCode(RejectionCode? code, string keyId, FailedCodeLimiter limiter)
    {
        if (code is RejectionCode.CouponNotFound or RejectionCode.DealerMismatch)
        {
            limiter.RecordFailedCode(keyId);
        }
    }

    public static async Task<Results<Ok<ValidationResponse[]>, ProblemHttpResult>> QualifyAsync(
        OrderRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!user.MayAccessDealer(body.DealerId))
        {
            return Problems.Forbidden("A dealer key may only act for its own dealer.");
        }

        // The order names no code: qualification picks them.
        body.Code = "QUALIFY";
        var errors = new List<FieldError>();
        if (body.ToContract(requireOrderId: false, errors) is not { } order)
        {
            return Problems.Invalid(errors);
        }

        var results = await grains.Ref<IValidatorGrain>(0).QualifyAsync(order);
        return TypedResults.Ok(results.Select(r => r.ToResponse(user.IsDealerKey())).ToArray());
    }

    public static async Task<Results<Ok<RebateView>, ProblemHttpResult>> RebateAsync(
        string id, string dealerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!user.MayAccessDealer(dealerId))
        {
            return Problems.NotFound("retro-rebate campaign");
        }

        var view = CodeFormat.IsValidId(id) && CodeFormat.IsValidId(dealerId)
            ? await grains.Ref<IValidatorGrain>(0).RebateAsync(id, dealerId)
            : null;
        return view is null ? Problems.NotFound("retro-rebate campaign") : TypedResults.Ok(view);
    }

    public static async Task<Results<Created<RedemptionResponse>, ProblemHttpResult>> RedeemAsync(
        OrderRequest body, [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, HttpContext http, IGrainFactory grains,
        FailedCodeLimiter limiter)
    {
        var user = http.User;
        if (!user.MayAccessDealer(body.DealerId))
        {
            return Problems.Forbidden("A dealer key may only act for its own dealer.");
        }

        var keyId = user.ToActor().KeyId;
        if (limiter.IsBlocked(keyId, out var retryAfter))
        {
            return Problems.TooManyFailedCodes(http.Response, retryAfter);
        }

        if (body.Codes is not null)
        {
            return Problems.Invalid("codes", "a redemption redeems one code; send each code of a stack as its own redemption.");
        }

        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return Problems.Invalid(IdempotencyHeader, "header is required for redemptions.");
        }

        if (idempotencyKey.Length > 128 || idempotencyKey.Any(c => c is < '!' or > '~'))
        {
            return Problems.Invalid(IdempotencyHeader, "must be 1-128 printable ASCII characters without spaces.");
        }

        var errors = new List<FieldError>();
        if (body.ToContract(requireOrderId: true, errors) is not { } order)
        {
            return Problems.Invalid(errors);
        }

        var grain = grains.Ref<IRedeemGrain>(GrainKeys.RedeemShard(order.DealerId, idempotencyKey));
        var result = await grain.RedeemAsync(order.DealerId, idempotencyKey, order, OrderHash.Of(order), user.ToActor());
        switch (result.Status)
        {
            case RedeemStatus.Created:
                return TypedResults.Created($"/api/v1/redemptions/{result.Redemption!.Id}", result.Redemption.ToResponse());
            case RedeemStatus.Replayed:
                http.Response.Headers[ReplayedHeader] = "true";
                return TypedResults.Created($"/api/v1/redemptions/{result.Redemption!.Id}", result.Redemption.ToResponse());
            case RedeemStatus.KeyReused:
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request body.");
            case RedeemStatus.Rejected:
                NoteUnknownCode(result.Rejection!.Code, keyId, limiter);
                if (result.ApprovalId is { } approvalId)
                {
                    return Problems.Of(result.Rejection.Code.HttpStatus(), result.Rejection.Code.ToWire(),
                        $"{result.Rejection.Message} Approval request {approvalId} is open; redeem again with its approvalId once approved.",
                        new Dictionary<string, object?> { ["approvalId"] = approvalId });
                }

                return Problems.Rejected(user.IsDealerKey() ? ResponseMapping.AsSeenByDealer(result.Rejection) : result.Rejection);
            case RedeemStatus.Contended:
                // Not a refusal: the cap has room in what is committed, and every unit of it was held by redemptions
                // still in flight for as long as the engine waited. Nothing is held for this request.
                http.Response.Headers.RetryAfter = "1";
                var cap = result.Rejection!.Code.ToWire();
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, "cap_contended",
                    $"What is left of a cap ({cap}) is held by redemptions in flight, which may still be released; " +
                    "retry with the same Idempotency-Key.",
                    new Dictionary<string, object?> { ["cap"] = cap });
            default:
                http.Response.Headers.RetryAfter = "1";
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, "ledger_unavailable",
                    "The redemption could not be confirmed; retry with the same Idempotency-Key.");
        }
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        var record = CodeFormat.IsValidId(id) ? await grains.Ref<IRedemptionGrain>(id).GetAsync() : null;
        return record is null || !user.MayAccessDealer(record.DealerId)
            ? Problems.NotFound("redemption")
            : TypedResults.Ok(record.ToResponse());
    }

    /// <summary>
    /// An action on a redemption: unknown → 404; another dealer's → 403 (SPEC §4: 403 for actions on another
    /// dealer's data, 404 only for reads); null when the caller may act on it.
    /// </summary>
    private static async Task<ProblemHttpResult?> OwnRedemptionAsync(IRedemptionGrain grain, string id, ClaimsPrincipal user)
    {
        var record = CodeFormat.IsValidId(id) ? await grain.GetAsync() : null;
        return record is null ? Problems.NotFound("redemption")
            : user.MayAccessDealer(record.DealerId) ? null
            : Problems.Forbidden("This redemption belongs to another dealer.");
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> ReverseAsync(
        string id, ReversalRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var grain = grains.Ref<IRedemptionGrain>(id);
        if (await OwnRedemptionAsync(grain, id, user) is { } refusal)
        {
            return refusal;
        }

        if (!CodeFormat.IsValidText(body.Reason, 500))
        {
            return Problems.Invalid("reason", "is required: 1-500 characters without control characters.");
        }

        ReturnedQuantity[]? returns = null;
        if (body.Lines is { } lines)
        {
            var errors = new List<FieldError>();
            if (lines.Length is 0 or > OrderMapping.MaxLines)
            {
                errors.Add(new("lines", $"must list 1 to {OrderMapping.MaxLines} returned lines, or be omitted for a whole reversal."));
            }

            for (var i = 0; i < lines.Length && errors.Count == 0; i++)
            {
                if (lines[i]?.Line is not >= 0 || lines[i].Quantity is not (>= 1 and <= OrderMapping.MaxQuantity))
                {
                    errors.Add(new($"lines[{i}]", $"needs line (≥ 0) and quantity (1 to {OrderMapping.MaxQuantity})."));
                }
            }

            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            returns = lines.Select(l => new ReturnedQuantity(l.Line!.Value, l.Quantity!.Value)).ToArray();
        }

        var change = await grain.ReverseAsync(body.Reason!, returns, user.ToActor());
        return change.Status switch
        {
            ChangeStatus.Done => TypedResults.Ok(change.Redemption!.ToResponse()),
            ChangeStatus.NotFound => Problems.NotFound("redemption"),
            ChangeStatus.Invalid => Problems.Of(StatusCodes.Status422UnprocessableEntity, "invalid_return", change.Message ?? "The return does not fit.",
                new Dictionary<string, object?> { ["field"] = change.Code }),
            _ => Problems.Conflict(change.Code ?? "conflict", change.Message),
        };
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> InvoiceAsync(
        string id, InvoiceRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var grain = grains.Ref<IRedemptionGrain>(id);
        if (await OwnRedemptionAsync(grain, id, user) is { } refusal)
        {
            return refusal;
        }

        var errors = new List<FieldError>();
        if (!CodeFormat.IsValidId(body.InvoiceNumber))
        {
            errors.Add(new("invoiceNumber", "is required: 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
        }

        if (body.InvoiceDate is null)
        {
            errors.Add(new("invoiceDate", "is required: a date such as 2026-11-20."));
        }

        if (body.DeliveryProofRef is not null && !CodeFormat.IsValidText(body.DeliveryProofRef, 500))
        {
            errors.Add(new("deliveryProofRef", "must be 1-500 characters without control characters."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var change = await grain.MapInvoiceAsync(
            new InvoiceMapping { InvoiceNumber = body.InvoiceNumber!, InvoiceDate = body.InvoiceDate!.Value, DeliveryProofRef = body.DeliveryProofRef },
            user.ToActor());
        return change.Status switch
        {
            ChangeStatus.Done => TypedResults.Ok(change.Redemption!.ToResponse()),
            ChangeStatus.NotFound => Problems.NotFound("redemption"),
            _ => Problems.Conflict(change.Code ?? "conflict", change.Message),
        };
    }
}
