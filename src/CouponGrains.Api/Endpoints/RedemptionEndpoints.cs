using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
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

public sealed class ReversalRequest
{
    public string? Reason { get; set; }
    public JsonElement? Lines { get; set; }
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
        return group;
    }

    public static async Task<Results<Ok<ValidationResponse>, ProblemHttpResult>> ValidateAsync(
        OrderRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!user.MayAccessDealer(body.DealerId))
        {
            return Problems.Forbidden("A dealer key may only act for its own dealer.");
        }

        var errors = new List<FieldError>();
        if (body.ToContract(requireOrderId: false, errors) is not { } order)
        {
            return Problems.Invalid(errors);
        }

        var result = await grains.GetGrain<IValidatorGrain>(0).ValidateAsync(order);
        return TypedResults.Ok(result.ToResponse());
    }

    public static async Task<Results<Created<RedemptionResponse>, ProblemHttpResult>> RedeemAsync(
        OrderRequest body, [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, HttpContext http, IGrainFactory grains)
    {
        var user = http.User;
        if (!user.MayAccessDealer(body.DealerId))
        {
            return Problems.Forbidden("A dealer key may only act for its own dealer.");
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

        var grain = grains.GetGrain<IRedeemGrain>(GrainKeys.RedeemShard(order.DealerId, idempotencyKey));
        var result = await grain.RedeemAsync(order.DealerId, idempotencyKey, order, RequestHash(order), user.ToActor());
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
                return Problems.Rejected(result.Rejection!);
            default:
                http.Response.Headers.RetryAfter = "1";
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, "ledger_unavailable",
                    "The redemption could not be confirmed; retry with the same Idempotency-Key.");
        }
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        var record = CodeFormat.IsValidId(id) ? await grains.GetGrain<IRedemptionGrain>(id).GetAsync() : null;
        return record is null || !user.MayAccessDealer(record.DealerId)
            ? Problems.NotFound("redemption")
            : TypedResults.Ok(record.ToResponse());
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> ReverseAsync(
        string id, ReversalRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IRedemptionGrain>(id);
        var record = CodeFormat.IsValidId(id) ? await grain.GetAsync() : null;
        if (record is null || !user.MayAccessDealer(record.DealerId))
        {
            return Problems.NotFound("redemption");
        }

        if (!CodeFormat.IsValidText(body.Reason, 500))
        {
            return Problems.Invalid("reason", "is required: 1-500 characters without control characters.");
        }

        if (body.Lines is { ValueKind: not JsonValueKind.Null })
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "partial_reversal_not_supported",
                "Partial reversal by lines is not available yet; omit lines to reverse the whole redemption.");
        }

        var change = await grain.ReverseAsync(body.Reason!, user.ToActor());
        return change.Status == ChangeStatus.Done
            ? TypedResults.Ok(change.Redemption!.ToResponse())
            : Problems.NotFound("redemption");
    }

    public static async Task<Results<Ok<RedemptionResponse>, ProblemHttpResult>> InvoiceAsync(
        string id, InvoiceRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IRedemptionGrain>(id);
        var record = CodeFormat.IsValidId(id) ? await grain.GetAsync() : null;
        if (record is null || !user.MayAccessDealer(record.DealerId))
        {
            return Problems.NotFound("redemption");
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

    /// <summary>A hash of the normalized order, so a replay is recognised whatever the JSON spacing or field order.</summary>
    private static string RequestHash(OrderContext order) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(order)));
}
