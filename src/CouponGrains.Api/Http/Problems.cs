using CouponGrains.Contracts.Redemptions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CouponGrains.Api.Http;

/// <summary>RFC 9457 problem details with the stable <c>code</c> member the API promises.</summary>
public static class Problems
{
    public static ProblemHttpResult Of(int status, string code, string detail, IDictionary<string, object?>? extra = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                extensions[k] = v;
            }
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: Title(status), extensions: extensions);
    }

    /// <summary>400 naming the field at fault, plus every other field error found.</summary>
    public static ProblemHttpResult Invalid(IReadOnlyList<FieldError> errors) =>
        Of(StatusCodes.Status400BadRequest, "invalid_request", $"{errors[0].Field}: {errors[0].Message}",
            new Dictionary<string, object?>
            {
                ["field"] = errors[0].Field,
                ["errors"] = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            });

    public static ProblemHttpResult Invalid(string field, string message) => Invalid([new FieldError(field, message)]);

    public static ProblemHttpResult Rejected(Rejection rejection) =>
        Of(rejection.Code.HttpStatus(), rejection.Code.ToWire(), rejection.Message);

    public static ProblemHttpResult NotFound(string what) =>
        Of(StatusCodes.Status404NotFound, "not_found", $"No {what} with that id.");

    public static ProblemHttpResult Forbidden(string detail) => Of(StatusCodes.Status403Forbidden, "forbidden", detail);

    public static ProblemHttpResult Conflict(string code, string? detail) =>
        Of(StatusCodes.Status409Conflict, code, detail ?? "The request conflicts with the current state.");

    /// <summary>429 with <c>Retry-After</c> (whole seconds, at least 1).</summary>
    public static ProblemHttpResult TooManyRequests(HttpResponse response, TimeSpan retryAfter, string code, string detail)
    {
        response.Headers.RetryAfter = RetryAfterSeconds(retryAfter);
        return Of(StatusCodes.Status429TooManyRequests, code, detail);
    }

    /// <summary>429 for a key blocked by the failed-code limiter: call when <c>FailedCodeLimiter.IsBlocked</c> says so.</summary>
    public static ProblemHttpResult TooManyFailedCodes(HttpResponse response, TimeSpan retryAfter) =>
        TooManyRequests(response, retryAfter, "too_many_failed_codes",
            "Too many unknown or invalid coupon codes from this API key; wait before trying again.");

    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes a problem directly, for middleware and authentication that run outside endpoints.</summary>
    public static Task Write(HttpContext context, int status, string code, string detail, IDictionary<string, object?>? extra = null)
    {
        var problem = new ProblemDetails { Status = status, Title = Title(status), Detail = detail };
        problem.Extensions["code"] = code;
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                problem.Extensions[k] = v;
            }
        }

        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        422 => "Unprocessable content",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Error",
    };
}

public sealed record FieldError(string Field, string Message);
