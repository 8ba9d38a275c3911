using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.Grains.Approvals;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

[Collection(ApiCollection.Name)]
public sealed class ApprovalTests(ApiFixture api)
{
    private IApprovalGrain Approvals => api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0);

    private static ApprovalRequest Request(string dealer, long amount, string? hash = null) => new()
    {
        DealerId = dealer, OrderHash = hash ?? "h-" + Guid.NewGuid().ToString("N"), Amount = amount, Currency = "INR",
        CampaignId = "C-X", Code = "GOODWILL1", Reason = ApprovalReasons.Goodwill,
    };

    private async Task<(HttpStatusCode Status, string? Code)> DecideAsync(HttpClient client, string id, string decision, string? reasonCode = "ok")
    {
        var response = await client.PostAsJsonAsync($"/api/v1/approvals/{id}/decision", new { decision, reasonCode, note = "checked" });
        return (response.StatusCode, response.IsSuccessStatusCode ? null : await ApiFixture.CodeOf(response));
    }

    [Fact]
    public async Task AnApprovalIsUsedOnceAndOnlyForItsDealerOrderAndAmount()
    {
        var approver = api.Client(await api.CreateKeyAsync(Roles.Approver));
        var created = await Approvals.CreateAsync(Request("D-APR-1", 5_000, "order-1"), Actor.System);
        Assert.Equal(ApprovalStatuses.Pending, created.Status);
        Assert.Equal(ApprovalConsumeStatus.NotApproved, (await Approvals.ConsumeAsync(created.Id, "D-APR-1", "order-1", 5_000)).Status);

        Assert.Equal((HttpStatusCode.OK, null), await DecideAsync(approver, created.Id, "approve"));

        Assert.Equal(ApprovalConsumeStatus.NotFound, (await Approvals.ConsumeAsync(created.Id, "D-APR-OTHER", "order-1", 5_000)).Status);
        Assert.Equal(ApprovalConsumeStatus.Mismatch, (await Approvals.ConsumeAsync(created.Id, "D-APR-1", "order-2", 5_000)).Status);
        Assert.Equal(ApprovalConsumeStatus.Mismatch, (await Approvals.ConsumeAsync(created.Id, "D-APR-1", "order-1", 5_001)).Status);
        Assert.Equal(ApprovalConsumeStatus.NotFound, (await Approvals.ConsumeAsync("A-nope", "D-APR-1", "order-1", 5_000)).Status);

        // Concurrent consumers of one id: exactly one wins.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Approvals.ConsumeAsync(created.Id, "D-APR-1", "order-1", 5_000)));
        Assert.Single(attempts, a => a.Succeeded);
        Assert.All(attempts.Where(a => !a.Succeeded), a => Assert.Equal(ApprovalConsumeStatus.AlreadyUsed, a.Status));
        Assert.Equal(ApprovalStatuses.Consumed, (await Approvals.GetAsync(created.Id))!.Status);
        Assert.Equal((HttpStatusCode.Conflict, "approval_already_decided"), await DecideAsync(approver, created.Id, "reject"));
    }

    [Fact]
    public async Task ARejectedRequestCannotBeUsedAndNeedsAReason()
    {
        var finance = api.Client(await api.CreateKeyAsync(Roles.Finance));
        var created = await Approvals.CreateAsync(Request("D-APR-2", 100, "o"), Actor.System);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), await DecideAsync(finance, created.Id, "reject", reasonCode: null));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), await DecideAsync(finance, created.Id, "maybe"));
        Assert.Equal((HttpStatusCode.OK, null), await DecideAsync(finance, created.Id, "reject", "margin_too_low"));
        Assert.Equal(ApprovalConsumeStatus.NotApproved, (await Approvals.ConsumeAsync(created.Id, "D-APR-2", "o", 100)).Status);
        var read = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/approvals/{created.Id}");
        Assert.Equal("rejected", read!["status"]!.GetValue<string>());
        Assert.Equal("margin_too_low", read["decisionCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task EachRoleApprovesOnlyUpToItsLimit()
    {
        var options = api.Services.GetRequiredService<ApprovalStore>().Options;
        var approver = api.Client(await api.CreateKeyAsync(Roles.Approver));
        var finance = api.Client(await api.CreateKeyAsync(Roles.Finance));
        var overApprover = await Approvals.CreateAsync(Request("D-APR-3", options.ApproverMaxAmount + 1), Actor.System);
        var atApprover = await Approvals.CreateAsync(Request("D-APR-3", options.ApproverMaxAmount), Actor.System);
        var overFinance = await Approvals.CreateAsync(Request("D-APR-3", options.FinanceMaxAmount + 1), Actor.System);

        Assert.Equal((HttpStatusCode.Forbidden, "approval_limit_exceeded"), await DecideAsync(approver, overApprover.Id, "approve"));
        Assert.Equal((HttpStatusCode.OK, null), await DecideAsync(approver, atApprover.Id, "approve"));
        Assert.Equal((HttpStatusCode.OK, null), await DecideAsync(finance, overApprover.Id, "approve"));
        Assert.Equal((HttpStatusCode.Forbidden, "approval_limit_exceeded"), await DecideAsync(finance, overFinance.Id, "approve"));
        Assert.Equal((HttpStatusCode.OK, null), await DecideAsync(api.Admin, overFinance.Id, "approve"));
    }

    [Fact]
    public async Task ThePendingQueueListsUndecidedRequestsOnly()
    {
        var dealer = "D-APR-Q-" + Guid.NewGuid().ToString("N")[..6];
        var first = await Approvals.CreateAsync(Request(dealer, 10), Actor.System);
        var second = await Approvals.CreateAsync(Request(dealer, 20), Actor.System);
        (await api.Admin.PostAsJsonAsync($"/api/v1/approvals/{first.Id}/decision", new { decision = "approve" })).EnsureSuccessStatusCode();

        var queue = await api.Finance.GetFromJsonAsync<JsonObject>($"/api/v1/approvals?status=pending&dealerId={dealer}");
        var ids = queue!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToArray();
        Assert.Equal([second.Id], ids);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.Finance.GetAsync("/api/v1/approvals?status=whatever")).StatusCode);
    }

    [Fact]
    public async Task ARequestExpiresForDecisionsAndForUse()
    {
        // Whole microseconds, PostgreSQL's precision, so times read back compare equal.
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddTicks((DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10 * 10));
        var options = Microsoft.Extensions.Options.Options.Create(new ApprovalOptions { RequestExpiryMinutes = 60 });
        var store = new ApprovalStore(api.Services.GetRequiredService<Database>(), clock, options, api.Services.GetRequiredService<AuditLog>());
        var admin = new Actor("K-test-admin", Roles.Admin, null);

        var used = await store.CreateAsync(Request("D-APR-EXP", 700, "o-1"), Actor.System);
        var late = await store.CreateAsync(Request("D-APR-EXP", 700, "o-2"), Actor.System);
        Assert.Equal(clock.GetUtcNow().AddMinutes(60), used.ExpiresAt);
        Assert.Equal(ApprovalDecisionStatus.Done, (await store.DecideAsync(used.Id, ApprovalDecision.Approve, "ok", null, admin)).Status);

        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(ApprovalConsumeStatus.Expired, (await store.ConsumeAsync(used.Id, "D-APR-EXP", "o-1", 700)).Status);
        Assert.Equal(ApprovalDecisionStatus.Expired, (await store.DecideAsync(late.Id, ApprovalDecision.Approve, "ok", null, admin)).Status);
        Assert.Equal(ApprovalStatuses.Expired, (await store.GetAsync(used.Id))!.Status);

        // An expiry asked for beyond the configured one is cut to it; a shorter one is kept.
        var asked = await store.CreateAsync(Request("D-APR-EXP", 1, "o-3") with { ExpiresAt = clock.GetUtcNow().AddDays(3) }, Actor.System);
        Assert.Equal(clock.GetUtcNow().AddMinutes(60), asked.ExpiresAt);
        var quick = await store.CreateAsync(Request("D-APR-EXP", 1, "o-4") with { ExpiresAt = clock.GetUtcNow().AddMinutes(5) }, Actor.System);
        Assert.Equal(ApprovalDecisionStatus.Done, (await store.DecideAsync(quick.Id, ApprovalDecision.Approve, "ok", null, admin)).Status);
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.True((await store.ConsumeAsync(quick.Id, "D-APR-EXP", "o-4", 1)).Succeeded);
    }

    [Fact]
    public async Task AnApprovalSurvivesInPostgreSqlAcrossStoreInstances()
    {
        var created = await Approvals.CreateAsync(Request("D-APR-DUR", 42, "o"), Actor.System);
        (await api.Admin.PostAsJsonAsync($"/api/v1/approvals/{created.Id}/decision", new { decision = "approve" })).EnsureSuccessStatusCode();
        // A store that never saw it (as after a restart) reads the same state and can consume it.
        var store = new ApprovalStore(api.Services.GetRequiredService<Database>(), TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new ApprovalOptions()), api.Services.GetRequiredService<AuditLog>());
        Assert.Equal(ApprovalStatuses.Approved, (await store.GetAsync(created.Id))!.Status);
        Assert.True((await store.ConsumeAsync(created.Id, "D-APR-DUR", "o", 42)).Succeeded);
    }
}
