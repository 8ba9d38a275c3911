using CouponGrains.Api.Endpoints;
using CouponGrains.Api.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace CouponGrains.Api.Observability;

/// <summary>
/// Counts redemptions and rejections by code from the redemption endpoint's typed result, and runs the
/// request in a logging scope naming the dealer and Idempotency-Key; the outcome is logged with the
/// redemption id, so one grep joins a client's retries, the API log and the grains' log.
/// </summary>
public sealed class RedemptionMetricsFilter(CouponGrainsMetrics metrics, ILogger<RedemptionMetricsFilter> logger) : IEndpointFilter
{
    public const string RedeemEndpointName = "RedeemCoupon";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName != RedeemEndpointName)
        {
            return await next(context);
        }

        var key = http.Request.Headers[RedemptionEndpoints.IdempotencyHeader].ToString();
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["IdempotencyKey"] = key });
        object? result;
        try
        {
            result = await next(context);
        }
        catch (Exception)
        {
            // The exception handler answers (503 for an unreachable cluster, else 500); count it here, once.
            metrics.RedemptionRejected("exception");
            throw;
        }

        switch (Unwrap(result))
        {
            case Created<RedemptionResponse> { Value: { } created }:
                if (http.Response.Headers.ContainsKey(RedemptionEndpoints.ReplayedHeader))
                {
                    logger.LogDebug("Redemption {RedemptionId} replayed for {DealerId}", created.Id, created.DealerId);
                }
                else
                {
                    metrics.RedemptionCreated(created.CampaignId);
                    logger.LogDebug("Redemption {RedemptionId} created for {DealerId} on {CampaignId}: {Discount}",
                        created.Id, created.DealerId, created.CampaignId, created.Discount);
                }

                break;
            case ProblemHttpResult problem:
                var code = problem.ProblemDetails.Extensions.TryGetValue("code", out var c) ? c?.ToString() ?? "unknown" : "unknown";
                metrics.RedemptionRejected(code);
                logger.LogDebug("Redemption rejected: {Code} ({Status})", code, problem.StatusCode);
                break;
        }

        return result;
    }

    private static object? Unwrap(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        return result;
    }
}
