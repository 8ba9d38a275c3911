using System.Net;
using CouponGrains.Api.Abuse;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>A silo with tight limits: dealer keys get 3 requests of burst and 2 a second; 3 failed codes in 2 s block a key.</summary>
public sealed class TightLimitsFixture : ApiFixture
{
    public const int Burst = 3;
    public const int FailedCodeLimit = 3;

    protected override void Configure(IDictionary<string, string?> settings)
    {
        settings["Api__DealerRequestsPerSecond"] = "2";
        settings["Api__DealerBurst"] = Burst.ToString();
        settings["Abuse__FailedCodeLimit"] = FailedCodeLimit.ToString();
        settings["Abuse__FailedCodeWindowSeconds"] = "2";
    }
}

[CollectionDefinition(Name)]
public sealed class TightLimitsCollection : ICollectionFixture<TightLimitsFixture>
{
    public const string Name = "tight-limits";
}

[Collection(TightLimitsCollection.Name)]
public sealed class RateLimitTests(TightLimitsFixture api)
{
    [Fact]
    public async Task ADealerKeyIsLimitedAloneAndReleasedAfterRetryAfter()
    {
        await api.PutDealerAsync("D-RL-A");
        var noisy = api.Client(await api.CreateKeyAsync(Roles.Dealer, "D-RL-A"));
        var quiet = api.Client(await api.CreateKeyAsync(Roles.Dealer, "D-RL-A"));
        var staff = api.Client(await api.CreateKeyAsync(Roles.Ops));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < TightLimitsFixture.Burst + 3 && limited is null; i++)
        {
            var response = await noisy.GetAsync("/api/v1/dealers/D-RL-A");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        Assert.NotNull(limited);
        Assert.True(statuses.Count > TightLimitsFixture.Burst, string.Join(",", statuses));
        Assert.Equal("rate_limited", await ApiFixture.CodeOf(limited));
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        // Another key of the same dealer, and staff, are not affected.
        Assert.Equal(HttpStatusCode.OK, (await quiet.GetAsync("/api/v1/dealers/D-RL-A")).StatusCode);
        for (var i = 0; i < TightLimitsFixture.Burst * 3; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await staff.GetAsync("/api/v1/dealers/D-RL-A")).StatusCode);
        }

        // The bucket refills: after the advertised wait the key is served again.
        await Task.Delay(retryAfter.Value + TimeSpan.FromMilliseconds(100));
        Assert.Equal(HttpStatusCode.OK, (await noisy.GetAsync("/api/v1/dealers/D-RL-A")).StatusCode);
    }

    [Fact]
    public void TheSiloFailedCodeLimiterUsesTheConfiguredThreshold()
    {
        var limiter = api.Services.GetRequiredService<FailedCodeLimiter>();
        var key = "K-cfg-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 1; i < TightLimitsFixture.FailedCodeLimit; i++)
        {
            limiter.RecordFailedCode(key);
            Assert.False(limiter.IsBlocked(key, out _));
        }

        limiter.RecordFailedCode(key);
        Assert.True(limiter.IsBlocked(key, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
    }
}

[Collection(ApiCollection.Name)]
public sealed class FailedCodeLimiterTests(ApiFixture api)
{
    private static FailedCodeLimiter Limiter(ManualTimeProvider clock, IGrainFactory? grains = null) =>
        new(new AbuseOptions { FailedCodeLimit = 3, FailedCodeWindowSeconds = 10 }, clock, grains, NullLogger<FailedCodeLimiter>.Instance);

    [Fact]
    public void AKeyIsBlockedAtTheLimitWithinTheWindowAndReleasedAfterIt()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var limiter = Limiter(clock);
        limiter.RecordFailedCode("K-a");
        clock.Advance(TimeSpan.FromSeconds(4));
        limiter.RecordFailedCode("K-a");
        Assert.False(limiter.IsBlocked("K-a", out _));
        clock.Advance(TimeSpan.FromSeconds(4));
        limiter.RecordFailedCode("K-a");

        Assert.True(limiter.IsBlocked("K-a", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(10), retryAfter);
        Assert.False(limiter.IsBlocked("K-b", out _));
        limiter.RecordFailedCode("K-b");
        Assert.False(limiter.IsBlocked("K-b", out _));

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.True(limiter.IsBlocked("K-a", out retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(limiter.IsBlocked("K-a", out _));
        // After the block the count starts afresh.
        limiter.RecordFailedCode("K-a");
        Assert.False(limiter.IsBlocked("K-a", out _));
    }

    [Fact]
    public void FailuresSpreadWiderThanTheWindowNeverBlock()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var limiter = Limiter(clock);
        for (var i = 0; i < 20; i++)
        {
            limiter.RecordFailedCode("K-slow");
            Assert.False(limiter.IsBlocked("K-slow", out _));
            clock.Advance(TimeSpan.FromSeconds(5.01));
        }
    }

    [Fact]
    public async Task ABlockIsAuditedOnce()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var limiter = Limiter(clock, api.Services.GetRequiredService<IGrainFactory>());
        var key = "K-guess-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 10; i++)
        {
            limiter.RecordFailedCode(key);
        }

        Assert.True(limiter.IsBlocked(key, out _));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long entries = 0;
        while (entries == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            entries = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
                "SELECT count(*) FROM audit_log WHERE entity_id = @k AND action = @a", ("k", key), ("a", AuditNames.FailedCodeBlocked));
        }

        await Task.Delay(200);
        Assert.Equal(1L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM audit_log WHERE entity_id = @k AND action = @a", ("k", key), ("a", AuditNames.FailedCodeBlocked)));
    }
}
