using System.Text.Json.Nodes;
using CouponGrains.Api.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace CouponGrains.IntegrationTests.Api;

/// <summary>How a failure that reached the API host is answered: what a client may retry, and what it may not.</summary>
public sealed class ExceptionHandlerTests
{
    public static TheoryData<Exception> ClusterFailures => new()
    {
        new Orleans.Runtime.SiloUnavailableException("silo gone"),
        new TimeoutException("no response in 30 s"),
        // What a call gets while a killed silo's grain directory range is handed over: Orleans gives up the lookup.
        new OperationCanceledException("The operation was canceled."),
    };

    [Theory]
    [MemberData(nameof(ClusterFailures))]
    public async Task AFailureOfTheClusterIsA503ToRetryWithTheSameKey(Exception failure)
    {
        var (status, retryAfter, problem) = await HandleAsync(failure, aborted: false);

        Assert.Equal(503, status);
        Assert.Equal("1", retryAfter);
        Assert.Equal("cluster_unavailable", problem!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACancellationBecauseTheCallerHungUpIsNotAnsweredAsAFault()
    {
        var (status, _, problem) = await HandleAsync(new OperationCanceledException(), aborted: true);

        Assert.Equal(StatusCodes.Status499ClientClosedRequest, status);
        Assert.Null(problem);
    }

    [Fact]
    public async Task AnyOtherFailureIsA500WithATraceIdAndNoInternals()
    {
        var (status, retryAfter, problem) = await HandleAsync(new InvalidOperationException("secret internals"), aborted: false);

        Assert.Equal(500, status);
        Assert.Null(retryAfter);
        Assert.Equal("internal_error", problem!["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(problem["traceId"]!.GetValue<string>()));
        Assert.DoesNotContain("secret", problem.ToJsonString());
    }

    private static async Task<(int Status, string? RetryAfter, JsonObject? Problem)> HandleAsync(Exception failure, bool aborted)
    {
        using var hangUp = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = hangUp.Token, TraceIdentifier = "trace-1" };
        context.Response.Body = new MemoryStream();
        if (aborted)
        {
            await hangUp.CancelAsync();
        }

        var handled = await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance).TryHandleAsync(context, failure, CancellationToken.None);

        Assert.True(handled);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        var retryAfter = context.Response.Headers.RetryAfter.ToString();
        return (context.Response.StatusCode, retryAfter.Length == 0 ? null : retryAfter,
            body.Length == 0 ? null : JsonNode.Parse(body)!.AsObject());
    }
}
