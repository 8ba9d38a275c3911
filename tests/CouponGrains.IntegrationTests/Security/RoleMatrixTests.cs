using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>Every endpoint × every role: the allowed roles get through authorization, every other gets 403 <c>forbidden</c>.</summary>
[Collection(ApiCollection.Name)]
public sealed partial class RoleMatrixTests(ApiFixture api)
{
    private static readonly string[] Staff = [Roles.Admin, Roles.Marketing, Roles.Finance, Roles.Approver, Roles.Ops];
    private static readonly string[] Everyone = [.. Staff, Roles.Dealer];
    private static readonly string[] Editors = [Roles.Admin, Roles.Marketing];
    private static readonly string[] FinanceRoles = [Roles.Admin, Roles.Finance];
    private static readonly string[] Approvers = [Roles.Admin, Roles.Finance, Roles.Approver];
    private static readonly string[] Auditors = [Roles.Admin, Roles.Finance, Roles.Ops];

    /// <summary>Settlement (claims, credit notes) is finance's and admin's, and each dealer's own.</summary>
    private static readonly string[] Settlement = [Roles.Admin, Roles.Finance, Roles.Dealer];

    private const string Dealer = "D-MATRIX";

    /// <summary>One row: "METHOD /path" as mapped under /api/v1, the roles allowed, and how to build a fresh request
    /// (so an allowed call has something to act on).</summary>
    private sealed record Row(string Name, string[] Allowed, Func<Task<HttpRequestMessage>> Build);

    /// <summary>The objects of <see cref="Dealer"/> that the read rows read.</summary>
    private sealed record Subjects(string Campaign, string RebateCampaign, string Code, string Approval, string Redemption, string Claim, string CreditNote);

    private static HttpRequestMessage Req(HttpMethod method, string path, object? body = null) =>
        new(method, path) { Content = body is null ? null : JsonContent.Create(body) };

    private static Func<Task<HttpRequestMessage>> Fixed(HttpMethod method, string path, object? body = null) =>
        () => Task.FromResult(Req(method, path, body));

    private async Task<string> CampaignAsync(string status)
    {
        // Created and submitted by marketing, so neither admin nor finance is its creator or submitter.
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var id = await SecurityData.IdOf(await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign()));
        if (status is "pending" or "active" or "paused")
        {
            (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
        }

        if (status is "active" or "paused")
        {
            (await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null)).EnsureSuccessStatusCode();
        }

        if (status == "paused")
        {
            (await marketing.PostAsync($"/api/v1/campaigns/{id}/pause", null)).EnsureSuccessStatusCode();
        }

        return id;
    }

    private async Task<string> ApprovalAsync() =>
        (await api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0).CreateAsync(new ApprovalRequest
        {
            DealerId = Dealer, OrderHash = "h-" + Guid.NewGuid().ToString("N"), Amount = 500, Reason = ApprovalReasons.Goodwill,
        }, Actor.System)).Id;

    private async Task<string> KeyIdAsync() => (await api.CreateKeyWithIdAsync(Roles.Ops)).Id;

    private async Task<string> BlacklistEntryAsync() => await SecurityData.IdOf(await api.Admin.PostAsJsonAsync("/api/v1/blacklist",
        new { kind = "customer", value = "CU-M-" + Guid.NewGuid().ToString("N")[..8], reason = "matrix" }));

    private Row[] Rows(Subjects s)
    {
        var today = SecurityData.Today;
        return
        [
            new("POST /api-keys", [Roles.Admin], Fixed(HttpMethod.Post, "/api/v1/api-keys", new { name = "m", role = "ops" })),
            new("GET /api-keys", [Roles.Admin], Fixed(HttpMethod.Get, "/api/v1/api-keys")),
            new("DELETE /api-keys/{id}", [Roles.Admin], async () => Req(HttpMethod.Delete, $"/api/v1/api-keys/{await KeyIdAsync()}")),
            new("POST /api-keys/{id}/rotation", [Roles.Admin], async () => Req(HttpMethod.Post, $"/api/v1/api-keys/{await KeyIdAsync()}/rotation")),
            new("PUT /dealers/{id}", Editors, Fixed(HttpMethod.Put, "/api/v1/dealers/D-MATRIX-2",
                new { name = "M", region = "west", channelTier = "dealer", tags = Array.Empty<string>(), branches = Array.Empty<object>() })),
            new("GET /dealers/{id}", Everyone, Fixed(HttpMethod.Get, $"/api/v1/dealers/{Dealer}")),

            new("POST /campaigns", Editors, Fixed(HttpMethod.Post, "/api/v1/campaigns", SecurityData.Campaign())),
            new("GET /campaigns/{id}", Staff, Fixed(HttpMethod.Get, $"/api/v1/campaigns/{s.Campaign}")),
            new("PUT /campaigns/{id}", Editors, async () =>
                Req(HttpMethod.Put, $"/api/v1/campaigns/{await CampaignAsync("draft")}", SecurityData.Campaign(name: "renamed"))),
            new("GET /campaigns/{id}/approval", Staff, Fixed(HttpMethod.Get, $"/api/v1/campaigns/{s.Campaign}/approval")),
            new("POST /campaigns/{id}/projection", Staff, Fixed(HttpMethod.Post, $"/api/v1/campaigns/{s.Campaign}/projection",
                new { catalogue = new[] { new { sku = "BP-220", category = "brakes", unitPrice = 1000, unitCost = 700 } } })),
            new("POST /campaigns/{id}/submit", Editors, async () => Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("draft")}/submit")),
            new("POST /campaigns/{id}/approve", FinanceRoles, async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("pending")}/approve")),
            new("POST /campaigns/{id}/reject", FinanceRoles, async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("pending")}/reject", new { reasonCode = "budget_too_high" })),
            new("POST /campaigns/{id}/pause", Editors, async () => Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("active")}/pause")),
            new("POST /campaigns/{id}/resume", Editors, async () => Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("paused")}/resume")),
            new("POST /campaigns/{id}/close", Editors, async () => Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("active")}/close")),
            new("POST /campaigns/{id}/coupons", Editors, Fixed(HttpMethod.Post, $"/api/v1/campaigns/{s.Campaign}/coupons", new { count = 1 })),
            new("GET /coupons/{code}", Everyone, Fixed(HttpMethod.Get, $"/api/v1/coupons/{s.Code}")),

            new("POST /validations", Everyone, Fixed(HttpMethod.Post, "/api/v1/validations", ApiFixture.Order(s.Code, Dealer))),
            new("POST /qualifications", Everyone, Fixed(HttpMethod.Post, "/api/v1/qualifications", ApiFixture.Order(s.Code, Dealer))),
            new("POST /redemptions", Everyone, async () =>
                ApiFixture.Redeem(ApiFixture.Order(await api.NamedCodeAsync(s.Campaign, dealerId: Dealer), Dealer))),
            new("GET /redemptions/{id}", Everyone, Fixed(HttpMethod.Get, $"/api/v1/redemptions/{s.Redemption}")),
            new("POST /redemptions/{id}/reversal", Everyone, async () => Req(HttpMethod.Post,
                $"/api/v1/redemptions/{await SecurityData.RedemptionAsync(api, api.Admin, s.Campaign, Dealer)}/reversal", new { reason = "returned" })),
            new("POST /redemptions/{id}/invoice", Everyone, async () => Req(HttpMethod.Post,
                $"/api/v1/redemptions/{await SecurityData.RedemptionAsync(api, api.Admin, s.Campaign, Dealer)}/invoice",
                new { invoiceNumber = "INV-M-" + Guid.NewGuid().ToString("N")[..8], invoiceDate = today })),
            new("GET /campaigns/{id}/rebates/{dealerId}", Everyone, Fixed(HttpMethod.Get, $"/api/v1/campaigns/{s.RebateCampaign}/rebates/{Dealer}")),

            new("GET /approvals", Approvers, Fixed(HttpMethod.Get, "/api/v1/approvals?status=pending")),
            new("GET /approvals/{id}", Everyone, Fixed(HttpMethod.Get, $"/api/v1/approvals/{s.Approval}")),
            new("POST /approvals/{id}/decision", Approvers, async () =>
                Req(HttpMethod.Post, $"/api/v1/approvals/{await ApprovalAsync()}/decision", new { decision = "approve", reasonCode = "ok" })),

            new("GET /audit", Auditors, Fixed(HttpMethod.Get, "/api/v1/audit?limit=5")),
            new("POST /audit/verify", Auditors, Fixed(HttpMethod.Post, "/api/v1/audit/verify")),

            new("GET /fraud/flags", Auditors, Fixed(HttpMethod.Get, "/api/v1/fraud/flags?limit=5")),
            new("POST /fraud/flags/{id}/decision", [Roles.Admin, Roles.Ops], async () =>
                Req(HttpMethod.Post, $"/api/v1/fraud/flags/{await SecurityData.FraudFlagAsync(api, Dealer)}/decision", new { decision = "dismiss" })),
            new("GET /blacklist", Auditors, Fixed(HttpMethod.Get, "/api/v1/blacklist")),
            new("POST /blacklist", Auditors, () => Task.FromResult(Req(HttpMethod.Post, "/api/v1/blacklist",
                new { kind = "customer", value = "CU-M-" + Guid.NewGuid().ToString("N")[..8], reason = "matrix" }))),
            new("DELETE /blacklist/{id}", Auditors, async () => Req(HttpMethod.Delete, $"/api/v1/blacklist/{await BlacklistEntryAsync()}")),

            new("POST /settlements/credit-notes", FinanceRoles, Fixed(HttpMethod.Post, "/api/v1/settlements/credit-notes", SecurityData.CreditNoteRun(Dealer))),
            new("GET /settlements/credit-notes", Settlement, Fixed(HttpMethod.Get, "/api/v1/settlements/credit-notes")),
            new("GET /settlements/credit-notes/{id}", Settlement, Fixed(HttpMethod.Get, $"/api/v1/settlements/credit-notes/{s.CreditNote}")),
            new("GET /settlements/reconciliation.csv", FinanceRoles,
                Fixed(HttpMethod.Get, $"/api/v1/settlements/reconciliation.csv?dealerId={Dealer}&from={today}&to={today}")),
            new("PUT /settlements/campaigns/{id}/delivery-proof", FinanceRoles,
                Fixed(HttpMethod.Put, $"/api/v1/settlements/campaigns/{s.Campaign}/delivery-proof", new { required = false })),
            new("POST /claims", Settlement, Fixed(HttpMethod.Post, "/api/v1/claims", SecurityData.Claim(Dealer))),
            new("GET /claims", Settlement, Fixed(HttpMethod.Get, "/api/v1/claims")),
            new("GET /claims/{id}", Settlement, Fixed(HttpMethod.Get, $"/api/v1/claims/{s.Claim}")),
            new("POST /claims/{id}/decision", FinanceRoles, async () =>
                Req(HttpMethod.Post, $"/api/v1/claims/{await SecurityData.ClaimAsync(api.Admin, Dealer)}/decision", new { decision = "approve" })),

            new("GET /analytics/redemptions", Staff, Fixed(HttpMethod.Get, $"/api/v1/analytics/redemptions?groupBy=dealer&dealerId={Dealer}")),
            new("GET /analytics/campaigns/{id}/burn", Staff, Fixed(HttpMethod.Get, $"/api/v1/analytics/campaigns/{s.Campaign}/burn")),
            new("GET /analytics/campaigns/{id}/lift", Staff, Fixed(HttpMethod.Get, $"/api/v1/analytics/campaigns/{s.Campaign}/lift")),
            new("GET /analytics/kpis", Staff, Fixed(HttpMethod.Get, $"/api/v1/analytics/kpis?dealerId={Dealer}")),
        ];
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    /// <summary>"METHOD /path" with parameter names dropped, so a row's name and the mapped route pattern compare equal.</summary>
    private static string Normalize(string method, string path) =>
        method + " " + RouteParameter().Replace(path, "{}").Replace("//", "/").TrimEnd('/');

    [Fact]
    public void TheMatrixHasARowForEveryMappedEndpoint()
    {
        // Outside /api/v1 and so not in the matrix: health, metrics, the OpenAPI document and /docs (no API key), and the
        // Orleans dashboard at /dashboard (the ops policy, a silo's operations page rather than part of the product API).
        var mapped = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods
                .Select(m => Normalize(m, e.RoutePattern.RawText!["/api/v1".Length..])))
            .ToHashSet();
        var rows = Rows(new Subjects("c", "r", "code", "a", "red", "cl", "cn"))
            .Select(r => r.Name.Split(' ', 2)).Select(p => Normalize(p[0], p[1])).ToHashSet();

        Assert.True(mapped.Count > 40, $"only {mapped.Count} endpoints found under /api/v1");
        Assert.True(!mapped.Except(rows).Any(), "mapped without a row: " + string.Join(", ", mapped.Except(rows)));
        Assert.True(!rows.Except(mapped).Any(), "a row for no mapped endpoint: " + string.Join(", ", rows.Except(mapped)));
    }

    [Fact]
    public async Task EveryEndpointAdmitsExactlyItsRoles()
    {
        await api.PutDealerAsync(Dealer);
        var active = await CampaignAsync("active");
        var subjects = new Subjects(
            Campaign: active,
            RebateCampaign: await api.CreateCampaignAsync(SecurityData.RetroRebateCampaign()),
            Code: await api.NamedCodeAsync(active, dealerId: Dealer),
            Approval: await ApprovalAsync(),
            Redemption: await SecurityData.RedemptionAsync(api, api.Admin, active, Dealer),
            Claim: await SecurityData.ClaimAsync(api.Admin, Dealer),
            CreditNote: await SecurityData.CreditNoteAsync(api, Dealer));

        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in Everyone)
        {
            clients[role] = api.Client(await api.CreateKeyAsync(role, role == Roles.Dealer ? Dealer : null));
        }

        var failures = new List<string>();
        foreach (var row in Rows(subjects))
        {
            foreach (var role in Everyone)
            {
                var response = await clients[role].SendAsync(await row.Build());
                var code = await ApiFixture.CodeOf(response);
                var allowed = row.Allowed.Contains(role);
                var admitted = response.StatusCode != HttpStatusCode.Unauthorized && code != "forbidden";
                var succeeded = (int)response.StatusCode is >= 200 and < 300;
                if (allowed && !succeeded)
                {
                    failures.Add($"{row.Name} as {role}: expected success, got {(int)response.StatusCode} {code}");
                }
                else if (!allowed && (admitted || response.StatusCode != HttpStatusCode.Forbidden))
                {
                    failures.Add($"{row.Name} as {role}: expected 403 forbidden, got {(int)response.StatusCode} {code}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
