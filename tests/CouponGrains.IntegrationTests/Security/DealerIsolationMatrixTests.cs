using System.Net;
using System.Net.Http.Json;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>Every endpoint that takes an id, called by dealer A for dealer B's object: reads are 404, actions 403, and A's own are readable.</summary>
[Collection(ApiCollection.Name)]
public sealed class DealerIsolationMatrixTests(ApiFixture api)
{
    [Fact]
    public async Task ADealerKeyGetsNothingOfAnotherDealerThroughAnyIdEndpoint()
    {
        await api.PutDealerAsync("D-IM-A");
        await api.PutDealerAsync("D-IM-B");
        var campaign = await api.CreateActiveCampaignAsync();
        var codeOfA = await api.NamedCodeAsync(campaign, dealerId: "D-IM-A");
        var codeOfB = await api.NamedCodeAsync(campaign, dealerId: "D-IM-B");
        var approvals = api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0);
        ApprovalRequest Request(string dealer) => new()
        {
            DealerId = dealer, OrderHash = "h-" + Guid.NewGuid().ToString("N"), Amount = 100, Reason = ApprovalReasons.HighValue,
        };
        var approvalOfA = (await approvals.CreateAsync(Request("D-IM-A"), Actor.System)).Id;
        var approvalOfB = (await approvals.CreateAsync(Request("D-IM-B"), Actor.System)).Id;
        var (keyOfBId, _) = await api.CreateKeyWithIdAsync(Roles.Dealer, "D-IM-B");
        var dealerA = api.Client(await api.CreateKeyAsync(Roles.Dealer, "D-IM-A"));

        (string Name, HttpRequestMessage Request, HttpStatusCode Expected)[] rows =
        [
            ("GET /dealers/{B}", new(HttpMethod.Get, "/api/v1/dealers/D-IM-B"), HttpStatusCode.NotFound),
            ("GET /coupons/{B's code}", new(HttpMethod.Get, $"/api/v1/coupons/{codeOfB}"), HttpStatusCode.NotFound),
            ("GET /approvals/{B's}", new(HttpMethod.Get, $"/api/v1/approvals/{approvalOfB}"), HttpStatusCode.NotFound),
            ("POST /approvals/{B's}/decision", new(HttpMethod.Post, $"/api/v1/approvals/{approvalOfB}/decision")
                { Content = JsonContent.Create(new { decision = "approve" }) }, HttpStatusCode.Forbidden),
            ("GET /approvals?dealerId=B", new(HttpMethod.Get, "/api/v1/approvals?dealerId=D-IM-B"), HttpStatusCode.Forbidden),
            ("PUT /dealers/{B}", new(HttpMethod.Put, "/api/v1/dealers/D-IM-B")
                { Content = JsonContent.Create(new { name = "x", channelTier = "dealer" }) }, HttpStatusCode.Forbidden),
            ("POST /validations for B", new(HttpMethod.Post, "/api/v1/validations") { Content = JsonContent.Create(ApiFixture.Order(codeOfB, "D-IM-B")) },
                HttpStatusCode.Forbidden),
            ("GET /campaigns/{id}", new(HttpMethod.Get, $"/api/v1/campaigns/{campaign}"), HttpStatusCode.Forbidden),
            ("GET /campaigns/{id}/approval", new(HttpMethod.Get, $"/api/v1/campaigns/{campaign}/approval"), HttpStatusCode.Forbidden),
            ("DELETE /api-keys/{B's key}", new(HttpMethod.Delete, $"/api/v1/api-keys/{keyOfBId}"), HttpStatusCode.Forbidden),
            ("POST /api-keys/{B's key}/rotation", new(HttpMethod.Post, $"/api/v1/api-keys/{keyOfBId}/rotation"), HttpStatusCode.Forbidden),
            ("GET /audit?entityId=B", new(HttpMethod.Get, "/api/v1/audit?entityId=D-IM-B"), HttpStatusCode.Forbidden),
            // Positive controls: A's own objects are readable with the same key.
            ("GET /dealers/{A}", new(HttpMethod.Get, "/api/v1/dealers/D-IM-A"), HttpStatusCode.OK),
            ("GET /coupons/{A's code}", new(HttpMethod.Get, $"/api/v1/coupons/{codeOfA}"), HttpStatusCode.OK),
            ("GET /approvals/{A's}", new(HttpMethod.Get, $"/api/v1/approvals/{approvalOfA}"), HttpStatusCode.OK),
        ];

        var failures = new List<string>();
        foreach (var (name, request, expected) in rows)
        {
            var response = await dealerA.SendAsync(request);
            if (response.StatusCode != expected)
            {
                failures.Add($"{name}: expected {(int)expected}, got {(int)response.StatusCode} {await ApiFixture.CodeOf(response)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        // Nothing of B's changed: its approval is still pending and its key still works.
        Assert.Equal(ApprovalStatuses.Pending, (await approvals.GetAsync(approvalOfB))!.Status);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM api_keys WHERE id = @id AND revoked_at IS NOT NULL", ("id", keyOfBId)));
    }
}
