using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>Every endpoint × every role: the allowed roles get through authorization, every other gets 403 <c>forbidden</c>.</summary>
[Collection(ApiCollection.Name)]
public sealed class RoleMatrixTests(ApiFixture api)
{
    private static readonly string[] Staff = [Roles.Admin, Roles.Marketing, Roles.Finance, Roles.Approver, Roles.Ops];
    private static readonly string[] Everyone = [.. Staff, Roles.Dealer];
    private const string Dealer = "D-MATRIX";

    /// <summary>One row: a name, the roles allowed, and how to build a fresh request (so an allowed call has something to act on).</summary>
    private sealed record Row(string Name, string[] Allowed, Func<Task<HttpRequestMessage>> Build);

    private static HttpRequestMessage Req(HttpMethod method, string path, object? body = null) =>
        new(method, path) { Content = body is null ? null : JsonContent.Create(body) };

    private async Task<string> CampaignAsync(string status)
    {
        // Created and submitted by marketing, so neither admin nor finance is its creator or submitter.
        var marketing = api.Client(await api.CreateKeyAsync(Roles.Marketing));
        var created = await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign());
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        if (status is "pending" or "active")
        {
            (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
        }

        if (status == "active")
        {
            (await api.Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null)).EnsureSuccessStatusCode();
        }

        return id;
    }

    private async Task<string> ApprovalAsync() =>
        (await api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0).CreateAsync(new ApprovalRequest
        {
            DealerId = Dealer, OrderHash = "h-" + Guid.NewGuid().ToString("N"), Amount = 500, Reason = ApprovalReasons.Goodwill,
        }, Actor.System)).Id;

    private async Task<string> KeyIdAsync() => (await api.CreateKeyWithIdAsync(Roles.Ops)).Id;

    [Fact]
    public async Task EveryEndpointAdmitsExactlyItsRoles()
    {
        await api.PutDealerAsync(Dealer);
        var active = await CampaignAsync("active");
        var boundCode = await api.NamedCodeAsync(active, dealerId: Dealer);
        var approval = await ApprovalAsync();
        Row[] rows =
        [
            new("POST /api-keys", [Roles.Admin], () => Task.FromResult(Req(HttpMethod.Post, "/api/v1/api-keys", new { name = "m", role = "ops" }))),
            new("GET /api-keys", [Roles.Admin], () => Task.FromResult(Req(HttpMethod.Get, "/api/v1/api-keys"))),
            new("DELETE /api-keys/{id}", [Roles.Admin], async () => Req(HttpMethod.Delete, $"/api/v1/api-keys/{await KeyIdAsync()}")),
            new("POST /api-keys/{id}/rotation", [Roles.Admin], async () => Req(HttpMethod.Post, $"/api/v1/api-keys/{await KeyIdAsync()}/rotation")),
            new("PUT /dealers/{id}", [Roles.Admin, Roles.Marketing], () => Task.FromResult(Req(HttpMethod.Put, "/api/v1/dealers/D-MATRIX-2",
                new { name = "M", region = "west", channelTier = "dealer", tags = Array.Empty<string>(), branches = Array.Empty<object>() }))),
            new("GET /dealers/{id}", Everyone, () => Task.FromResult(Req(HttpMethod.Get, $"/api/v1/dealers/{Dealer}"))),
            new("POST /campaigns", [Roles.Admin, Roles.Marketing], () => Task.FromResult(Req(HttpMethod.Post, "/api/v1/campaigns", SecurityData.Campaign()))),
            new("GET /campaigns/{id}", Staff, () => Task.FromResult(Req(HttpMethod.Get, $"/api/v1/campaigns/{active}"))),
            new("PUT /campaigns/{id}", [Roles.Admin, Roles.Marketing], async () =>
                Req(HttpMethod.Put, $"/api/v1/campaigns/{await CampaignAsync("draft")}", SecurityData.Campaign(name: "renamed"))),
            new("GET /campaigns/{id}/approval", Staff, () => Task.FromResult(Req(HttpMethod.Get, $"/api/v1/campaigns/{active}/approval"))),
            new("POST /campaigns/{id}/projection", Staff, () => Task.FromResult(Req(HttpMethod.Post, $"/api/v1/campaigns/{active}/projection",
                new { catalogue = new[] { new { sku = "BP-220", category = "brakes", unitPrice = 1000, unitCost = 700 } } }))),
            new("POST /campaigns/{id}/submit", [Roles.Admin, Roles.Marketing], async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("draft")}/submit")),
            new("POST /campaigns/{id}/approve", [Roles.Admin, Roles.Finance], async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("pending")}/approve")),
            new("POST /campaigns/{id}/reject", [Roles.Admin, Roles.Finance], async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("pending")}/reject", new { reasonCode = "budget_too_high" })),
            new("POST /campaigns/{id}/pause", [Roles.Admin, Roles.Marketing], async () =>
                Req(HttpMethod.Post, $"/api/v1/campaigns/{await CampaignAsync("active")}/pause")),
            new("POST /campaigns/{id}/coupons", [Roles.Admin, Roles.Marketing], () =>
                Task.FromResult(Req(HttpMethod.Post, $"/api/v1/campaigns/{active}/coupons", new { count = 1 }))),
            new("GET /coupons/{code}", Everyone, () => Task.FromResult(Req(HttpMethod.Get, $"/api/v1/coupons/{boundCode}"))),
            new("POST /validations", Everyone, () => Task.FromResult(Req(HttpMethod.Post, "/api/v1/validations", ApiFixture.Order(boundCode, Dealer)))),
            new("GET /approvals", [Roles.Admin, Roles.Finance, Roles.Approver], () =>
                Task.FromResult(Req(HttpMethod.Get, "/api/v1/approvals?status=pending"))),
            new("GET /approvals/{id}", Everyone, () => Task.FromResult(Req(HttpMethod.Get, $"/api/v1/approvals/{approval}"))),
            new("POST /approvals/{id}/decision", [Roles.Admin, Roles.Finance, Roles.Approver], async () =>
                Req(HttpMethod.Post, $"/api/v1/approvals/{await ApprovalAsync()}/decision", new { decision = "approve", reasonCode = "ok" })),
            new("GET /audit", [Roles.Admin, Roles.Finance, Roles.Ops], () => Task.FromResult(Req(HttpMethod.Get, "/api/v1/audit?limit=5"))),
            new("POST /audit/verify", [Roles.Admin, Roles.Finance, Roles.Ops], () => Task.FromResult(Req(HttpMethod.Post, "/api/v1/audit/verify"))),
        ];

        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in Everyone)
        {
            clients[role] = api.Client(await api.CreateKeyAsync(role, role == Roles.Dealer ? Dealer : null));
        }

        var failures = new List<string>();
        foreach (var row in rows)
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
