using System.Text.Json;
using CouponGrains.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CouponGrains.Api.Http;

/// <summary>
/// The one exception handler: malformed bodies become 400s naming the JSON path, oversized ones 413,
/// anything else a 500 problem without internals (logged with its trace id).
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        switch (exception)
        {
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                await Problems.Write(context, 413, "payload_too_large", "The request body is too large.");
                return true;
            case BadHttpRequestException bad:
                var json = Find<JsonException>(bad);
                var field = json?.Path is { Length: > 0 } path ? path.TrimStart('$', '.') : "body";
                await Problems.Write(context, 400, "invalid_request",
                    json is null ? "The request body is not valid JSON for this endpoint." : $"{field}: malformed value or wrong type.",
                    new Dictionary<string, object?> { ["field"] = field.Length == 0 ? "body" : field });
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                // The caller hung up: nobody reads this answer, and nothing about it is an error of ours.
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return true;
            case Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException
                or Orleans.Runtime.Messaging.ConnectionFailedException or Orleans.Runtime.GatewayTooBusyException or TimeoutException
                or OperationCanceledException:
                // A silo left or died mid-call, or no gateway is reachable yet: transient by nature. Orleans cancels
                // a call whose grain directory lookup it gave up on while a dead silo's directory range moves (the
                // caller did not cancel anything: that case is above). The client retries with the same
                // Idempotency-Key (README "Cluster"), so nothing is applied twice.
                logger.LogWarning("Cluster unavailable on {Method} {Path}: {Error}", context.Request.Method, context.Request.Path, exception.Message);
                context.Response.Headers.RetryAfter = "1";
                await Problems.Write(context, 503, "cluster_unavailable", "The cluster could not complete the request; retry with the same Idempotency-Key.");
                return true;
            case var _ when exception is DatabaseUnavailableException || DatabaseUnavailableException.Find(exception) is not null:
                // PostgreSQL refused a connection (no slots left, shutting down) or one broke mid-call. Nothing
                // unconfirmed was applied: the ledger is the only place a redemption becomes true, so the same
                // request retried with its Idempotency-Key is answered exactly once the database is back.
                logger.LogWarning("Database unavailable on {Method} {Path}: {Error}", context.Request.Method, context.Request.Path, exception.Message);
                context.Response.Headers.RetryAfter = "1";
                await Problems.Write(context, 503, "database_unavailable", "The database could not be reached; retry with the same Idempotency-Key.");
                return true;
            default:
                logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
                await Problems.Write(context, 500, "internal_error", "Something went wrong on our side; it was logged.",
                    new Dictionary<string, object?> { ["traceId"] = context.TraceIdentifier });
                return true;
        }
    }

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                return match;
            }
        }

        return null;
    }
}

/// <summary>Refuses oversized bodies before anything reads them.</summary>
public sealed class BodySizeLimitMiddleware(RequestDelegate next)
{
    public const long MaxBodyBytes = 512 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return Problems.Write(context, 413, "payload_too_large", $"The request body may not exceed {MaxBodyBytes} bytes.");
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        return next(context);
    }
}
