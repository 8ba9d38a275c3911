using System.Globalization;
using System.Text.Json.Nodes;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public sealed record AuditItemResponse(
    long Id, DateTimeOffset At, string Action, string EntityType, string EntityId, string? ActorKeyId, string? ActorRole,
    string? ReasonCode, string? Note, JsonNode? Documents, JsonNode? Before, JsonNode? After, long? Seq, string? Hash);

public sealed record AuditPageResponse(AuditItemResponse[] Items, string? Next);

/// <summary>The audit trail: filtered reads with keyset paging, and verification of its hash chain.</summary>
public static class AuditEndpoints
{
    public static RouteGroupBuilder MapAuditEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/audit").WithTags("Audit");
        group.MapGet("/", QueryAsync).WithName("QueryAudit")
            .WithSummary("Audit entries, newest first; filter by entityType, entityId, actorKeyId, action, from, to; page with next")
            .RequireAuthorization(Policies.Auditors);
        group.MapPost("/verify", VerifyAsync).WithName("VerifyAudit")
            .WithSummary("Recompute the hash chain and report the first broken seq").RequireAuthorization(Policies.Auditors);
        return group;
    }

    public static async Task<Results<Ok<AuditPageResponse>, ProblemHttpResult>> QueryAsync(
        IGrainFactory grains, string? entityType, string? entityId, string? actorKeyId, string? action, string? from, string? to,
        string? limit, string? next)
    {
        var errors = new List<FieldError>();
        foreach (var (field, value) in new[] { ("entityType", entityType), ("entityId", entityId), ("actorKeyId", actorKeyId), ("action", action) })
        {
            if (value is not null && !CodeFormat.IsValidText(value, 200))
            {
                errors.Add(new(field, "must be 1-200 characters without control characters."));
            }
        }

        var since = PipelineQuery.Time(from, "from", errors);
        var until = PipelineQuery.Time(to, "to", errors);
        var size = 100;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > 500))
        {
            errors.Add(new("limit", "must be from 1 to 500."));
        }

        long? before = null;
        if (next is not null)
        {
            if (long.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) && cursor > 0)
            {
                before = cursor;
            }
            else
            {
                errors.Add(new("next", "must be the next value of a previous page."));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var page = await grains.Ref<IAuditGrain>(0).QueryAsync(new AuditQuery
        {
            EntityType = entityType,
            EntityId = entityId,
            ActorKeyId = actorKeyId,
            Action = action,
            From = since,
            To = until,
            BeforeId = before,
            Limit = size,
        });
        var items = page.Items.Select(r => new AuditItemResponse(
            r.Id, r.At, r.Entry.Action, r.Entry.EntityType, r.Entry.EntityId, r.Entry.ActorKeyId, r.Entry.ActorRole,
            r.Entry.ReasonCode, r.Entry.Note, Json(r.Entry.Documents), Json(r.Entry.Before), Json(r.Entry.After), r.Seq, r.Hash)).ToArray();
        return TypedResults.Ok(new AuditPageResponse(items, page.NextBeforeId?.ToString(CultureInfo.InvariantCulture)));
    }

    public static async Task<Ok<AuditVerification>> VerifyAsync(IGrainFactory grains) =>
        TypedResults.Ok(await grains.Ref<IAuditGrain>(0).VerifyAsync());

    private static JsonNode? Json(string? text) => text is null ? null : JsonNode.Parse(text);
}
