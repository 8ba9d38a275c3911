using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>
/// Every endpoint that takes an id or a dealer, called by dealer A for dealer B's object: reads are 404, actions 403,
/// no body names anything of B's that A did not send, and A's own objects are readable with the same key.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class DealerIsolationMatrixTests(ApiFixture api)
{
    private const string A = "D-IM-A";
    private const string B = "D-IM-B";

    private static HttpRequestMessage Req(HttpMethod method, string path, object? body = null) =>
        new(method, path) { Content = body is null ? null : JsonContent.Create(body) };

    [Fact]
    public async Task ADealerKeyGetsNothingOfAnotherDealerThroughAnyIdEndpoint()
    {
        await api.PutDealerAsync(A);
        await api.PutDealerAsync(B);
        var campaign = await api.CreateActiveCampaignAsync();
        // B's code and redemption live in a campaign of their own, so its id in a body would be a leak.
        var campaignOfB = await api.CreateActiveCampaignAsync();
        var rebateCampaign = await api.CreateCampaignAsync(SecurityData.RetroRebateCampaign());
        var codeOfA = await api.NamedCodeAsync(campaign, dealerId: A);
        var codeOfB = await api.NamedCodeAsync(campaignOfB, dealerId: B);
        var redemptionOfA = await SecurityData.RedemptionAsync(api, api.Admin, campaign, A);
        var redemptionOfB = await SecurityData.RedemptionAsync(api, api.Admin, campaignOfB, B);
        var claimOfA = await SecurityData.ClaimAsync(api.Admin, A);
        var claimOfB = await SecurityData.ClaimAsync(api.Admin, B);
        var creditNoteOfA = await SecurityData.CreditNoteAsync(api, A);
        var creditNoteOfB = await SecurityData.CreditNoteAsync(api, B);
        var flagOfB = await SecurityData.FraudFlagAsync(api, B);
        var blacklistEntry = await SecurityData.IdOf(await api.Admin.PostAsJsonAsync("/api/v1/blacklist",
            new { kind = "customer", value = "CU-IM-" + Guid.NewGuid().ToString("N")[..6], reason = "isolation" }));
        var approvals = api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0);
        ApprovalRequest Request(string dealer) => new()
        {
            DealerId = dealer, OrderHash = "h-" + Guid.NewGuid().ToString("N"), Amount = 100, Reason = ApprovalReasons.HighValue,
        };
        var approvalOfA = (await approvals.CreateAsync(Request(A), Actor.System)).Id;
        var approvalOfB = (await approvals.CreateAsync(Request(B), Actor.System)).Id;
        var (keyOfBId, _) = await api.CreateKeyWithIdAsync(Roles.Dealer, B);
        var dealerA = api.Client(await api.CreateKeyAsync(Roles.Dealer, A));
        string[] ofB = [B, campaignOfB, codeOfB, redemptionOfB, claimOfB, creditNoteOfB, approvalOfB, keyOfBId];
        var today = SecurityData.Today;

        (string Name, HttpRequestMessage Request, HttpStatusCode Expected)[] rows =
        [
            ("GET /dealers/{B}", Req(HttpMethod.Get, $"/api/v1/dealers/{B}"), HttpStatusCode.NotFound),
            ("PUT /dealers/{B}", Req(HttpMethod.Put, $"/api/v1/dealers/{B}", new { name = "x", channelTier = "dealer" }), HttpStatusCode.Forbidden),
            ("GET /coupons/{B's code}", Req(HttpMethod.Get, $"/api/v1/coupons/{codeOfB}"), HttpStatusCode.NotFound),
            ("GET /campaigns/{id}", Req(HttpMethod.Get, $"/api/v1/campaigns/{campaignOfB}"), HttpStatusCode.Forbidden),
            ("GET /campaigns/{id}/approval", Req(HttpMethod.Get, $"/api/v1/campaigns/{campaignOfB}/approval"), HttpStatusCode.Forbidden),
            ("GET /campaigns/{id}/rebates/{B}", Req(HttpMethod.Get, $"/api/v1/campaigns/{rebateCampaign}/rebates/{B}"), HttpStatusCode.NotFound),

            ("POST /validations for B", Req(HttpMethod.Post, "/api/v1/validations", ApiFixture.Order(codeOfB, B)), HttpStatusCode.Forbidden),
            // A's own order with B's code reads exactly like an unknown code.
            ("POST /validations with B's code", Req(HttpMethod.Post, "/api/v1/validations", ApiFixture.Order(codeOfB, A)), HttpStatusCode.OK),
            ("POST /validations stacking B's code", Req(HttpMethod.Post, "/api/v1/validations", new
            {
                codes = new[] { codeOfA, codeOfB }, dealerId = A, lines = new[] { new { sku = "BP-220", quantity = 2, unitPrice = 185_000L } },
            }), HttpStatusCode.OK),
            ("POST /qualifications for B", Req(HttpMethod.Post, "/api/v1/qualifications", ApiFixture.Order(codeOfA, B)), HttpStatusCode.Forbidden),
            ("POST /redemptions for B", ApiFixture.Redeem(ApiFixture.Order(codeOfB, B)), HttpStatusCode.Forbidden),
            ("POST /redemptions with B's code", ApiFixture.Redeem(ApiFixture.Order(codeOfB, A)), HttpStatusCode.NotFound),
            ("GET /redemptions/{B's}", Req(HttpMethod.Get, $"/api/v1/redemptions/{redemptionOfB}"), HttpStatusCode.NotFound),
            ("POST /redemptions/{B's}/reversal", Req(HttpMethod.Post, $"/api/v1/redemptions/{redemptionOfB}/reversal", new { reason = "x" }),
                HttpStatusCode.Forbidden),
            ("POST /redemptions/{B's}/invoice", Req(HttpMethod.Post, $"/api/v1/redemptions/{redemptionOfB}/invoice",
                new { invoiceNumber = "INV-IM", invoiceDate = today }), HttpStatusCode.Forbidden),

            ("GET /approvals/{B's}", Req(HttpMethod.Get, $"/api/v1/approvals/{approvalOfB}"), HttpStatusCode.NotFound),
            ("POST /approvals/{B's}/decision", Req(HttpMethod.Post, $"/api/v1/approvals/{approvalOfB}/decision", new { decision = "approve" }),
                HttpStatusCode.Forbidden),
            ("GET /approvals?dealerId=B", Req(HttpMethod.Get, $"/api/v1/approvals?dealerId={B}"), HttpStatusCode.Forbidden),

            ("POST /claims for B", Req(HttpMethod.Post, "/api/v1/claims", SecurityData.Claim(B)), HttpStatusCode.Forbidden),
            ("GET /claims?dealerId=B", Req(HttpMethod.Get, $"/api/v1/claims?dealerId={B}"), HttpStatusCode.Forbidden),
            ("GET /claims/{B's}", Req(HttpMethod.Get, $"/api/v1/claims/{claimOfB}"), HttpStatusCode.NotFound),
            ("POST /claims/{B's}/decision", Req(HttpMethod.Post, $"/api/v1/claims/{claimOfB}/decision", new { decision = "approve" }),
                HttpStatusCode.Forbidden),
            ("POST /settlements/credit-notes for B", Req(HttpMethod.Post, "/api/v1/settlements/credit-notes", SecurityData.CreditNoteRun(B)),
                HttpStatusCode.Forbidden),
            ("GET /settlements/credit-notes?dealerId=B", Req(HttpMethod.Get, $"/api/v1/settlements/credit-notes?dealerId={B}"), HttpStatusCode.Forbidden),
            ("GET /settlements/credit-notes/{B's}", Req(HttpMethod.Get, $"/api/v1/settlements/credit-notes/{creditNoteOfB}"), HttpStatusCode.NotFound),
            ("GET /settlements/reconciliation.csv?dealerId=B",
                Req(HttpMethod.Get, $"/api/v1/settlements/reconciliation.csv?dealerId={B}&from={today}&to={today}"), HttpStatusCode.Forbidden),
            ("PUT /settlements/campaigns/{B's}/delivery-proof",
                Req(HttpMethod.Put, $"/api/v1/settlements/campaigns/{campaignOfB}/delivery-proof", new { required = true }), HttpStatusCode.Forbidden),

            ("GET /fraud/flags?dealerId=B", Req(HttpMethod.Get, $"/api/v1/fraud/flags?dealerId={B}"), HttpStatusCode.Forbidden),
            ("POST /fraud/flags/{B's}/decision", Req(HttpMethod.Post, $"/api/v1/fraud/flags/{flagOfB}/decision", new { decision = "dismiss" }),
                HttpStatusCode.Forbidden),
            ("GET /blacklist", Req(HttpMethod.Get, "/api/v1/blacklist"), HttpStatusCode.Forbidden),
            ("DELETE /blacklist/{id}", Req(HttpMethod.Delete, $"/api/v1/blacklist/{blacklistEntry}"), HttpStatusCode.Forbidden),
            ("GET /analytics/redemptions?dealerId=B", Req(HttpMethod.Get, $"/api/v1/analytics/redemptions?groupBy=dealer&dealerId={B}"),
                HttpStatusCode.Forbidden),
            ("GET /analytics/campaigns/{B's}/burn", Req(HttpMethod.Get, $"/api/v1/analytics/campaigns/{campaignOfB}/burn"), HttpStatusCode.Forbidden),
            ("GET /analytics/campaigns/{B's}/lift", Req(HttpMethod.Get, $"/api/v1/analytics/campaigns/{campaignOfB}/lift"), HttpStatusCode.Forbidden),
            ("GET /analytics/kpis?dealerId=B", Req(HttpMethod.Get, $"/api/v1/analytics/kpis?dealerId={B}"), HttpStatusCode.Forbidden),
            ("DELETE /api-keys/{B's key}", Req(HttpMethod.Delete, $"/api/v1/api-keys/{keyOfBId}"), HttpStatusCode.Forbidden),
            ("POST /api-keys/{B's key}/rotation", Req(HttpMethod.Post, $"/api/v1/api-keys/{keyOfBId}/rotation"), HttpStatusCode.Forbidden),
            ("GET /audit?entityId=B", Req(HttpMethod.Get, $"/api/v1/audit?entityId={B}"), HttpStatusCode.Forbidden),

            // Positive controls: A's own objects are readable with the same key, and A's lists hold nothing of B's.
            ("GET /dealers/{A}", Req(HttpMethod.Get, $"/api/v1/dealers/{A}"), HttpStatusCode.OK),
            ("GET /coupons/{A's code}", Req(HttpMethod.Get, $"/api/v1/coupons/{codeOfA}"), HttpStatusCode.OK),
            ("GET /campaigns/{id}/rebates/{A}", Req(HttpMethod.Get, $"/api/v1/campaigns/{rebateCampaign}/rebates/{A}"), HttpStatusCode.OK),
            ("GET /redemptions/{A's}", Req(HttpMethod.Get, $"/api/v1/redemptions/{redemptionOfA}"), HttpStatusCode.OK),
            ("GET /approvals/{A's}", Req(HttpMethod.Get, $"/api/v1/approvals/{approvalOfA}"), HttpStatusCode.OK),
            ("GET /claims/{A's}", Req(HttpMethod.Get, $"/api/v1/claims/{claimOfA}"), HttpStatusCode.OK),
            ("GET /claims", Req(HttpMethod.Get, "/api/v1/claims"), HttpStatusCode.OK),
            ("GET /settlements/credit-notes/{A's}", Req(HttpMethod.Get, $"/api/v1/settlements/credit-notes/{creditNoteOfA}"), HttpStatusCode.OK),
            ("GET /settlements/credit-notes", Req(HttpMethod.Get, "/api/v1/settlements/credit-notes"), HttpStatusCode.OK),
        ];

        var failures = new List<string>();
        foreach (var (name, request, expected) in rows)
        {
            // What A sent may come back (a code it asked about); anything else of B's may not.
            var sent = request.RequestUri + (request.Content is null ? "" : await request.Content.ReadAsStringAsync());
            var response = await dealerA.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != expected)
            {
                failures.Add($"{name}: expected {(int)expected}, got {(int)response.StatusCode} {await ApiFixture.CodeOf(response)}");
            }

            foreach (var leaked in ofB.Where(secret => !sent.Contains(secret, StringComparison.Ordinal) && body.Contains(secret, StringComparison.Ordinal)))
            {
                failures.Add($"{name}: the body names B's {leaked}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        // A stack of B's code alone shows nothing of B's campaign either, not even its currency. A fresh key:
        // the rows above sent A's first key enough unknown-looking codes to meet the failed-code limiter.
        var freshA = api.Client(await api.CreateKeyAsync(Roles.Dealer, A));
        var onlyB = await freshA.PostAsJsonAsync("/api/v1/validations", new
        {
            codes = new[] { codeOfB }, dealerId = A, lines = new[] { new { sku = "BP-220", quantity = 2, unitPrice = 185_000L } },
        });
        var stack = await onlyB.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.OK, onlyB.StatusCode);
        Assert.Null(stack!["currency"]);

        // Nothing of B's changed: its approval is still pending, its key still works, its redemption stands uninvoiced,
        // its claim undecided, its flag open.
        Assert.Equal(ApprovalStatuses.Pending, (await approvals.GetAsync(approvalOfB))!.Status);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM api_keys WHERE id = @id AND revoked_at IS NOT NULL", ("id", keyOfBId)));
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM redemptions WHERE id = @id AND (status <> 'committed' OR invoice_number IS NOT NULL)", ("id", redemptionOfB)));
        Assert.Equal("submitted", await TestPostgres.ScalarAsync<string>(api.ConnectionString,
            "SELECT status FROM claims WHERE id = @id", ("id", claimOfB)));
        Assert.Equal("open", await TestPostgres.ScalarAsync<string>(api.ConnectionString,
            "SELECT status FROM fraud_flags WHERE id = @id", ("id", long.Parse(flagOfB))));
    }
}
