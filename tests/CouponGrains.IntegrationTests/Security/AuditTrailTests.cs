using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Fraud;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Contracts.Settlement;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Events;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CouponGrains.IntegrationTests.Security;

[Collection(ApiCollection.Name)]
public sealed class AuditTrailTests(ApiFixture api)
{
    private async Task<JsonObject[]> EntriesAsync(string entityType, string entityId, string? action = null)
    {
        var query = $"/api/v1/audit?entityType={entityType}&entityId={Uri.EscapeDataString(entityId)}&limit=500"
            + (action is null ? "" : $"&action={action}");
        var page = await api.Admin.GetFromJsonAsync<JsonObject>(query);
        return page!["items"]!.AsArray().Select(i => i!.AsObject()).ToArray();
    }

    private async Task<JsonObject> OneAsync(string entityType, string entityId, string action, string actorKeyId)
    {
        var entries = await EntriesAsync(entityType, entityId, action);
        var entry = Assert.Single(entries);
        Assert.Equal(actorKeyId, entry["actorKeyId"]!.GetValue<string>());
        return entry;
    }

    [Fact]
    public async Task EveryStateChangingCallWritesExactlyOneEntryWithItsActorAndStates()
    {
        var (marketingId, marketingKey) = await api.CreateKeyWithIdAsync(Roles.Marketing);
        var (financeId, financeKey) = await api.CreateKeyWithIdAsync(Roles.Finance);
        var marketing = api.Client(marketingKey);
        var finance = api.Client(financeKey);

        // Campaign: create, update, submit, approve, pause, resume, close.
        var created = await marketing.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign());
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var create = await OneAsync(AuditNames.Campaign, id, AuditNames.Created, marketingId);
        Assert.Null(create["before"]);
        Assert.Equal("draft", create["after"]!["status"]!.GetValue<string>());
        Assert.Equal(10_000_000, create["after"]!["definition"]!["budget"]!.GetValue<long>());

        (await marketing.PutAsJsonAsync($"/api/v1/campaigns/{id}", SecurityData.Campaign(budget: 12_000_000))).EnsureSuccessStatusCode();
        var update = await OneAsync(AuditNames.Campaign, id, AuditNames.Updated, marketingId);
        Assert.Equal(10_000_000, update["before"]!["definition"]!["budget"]!.GetValue<long>());
        Assert.Equal(12_000_000, update["after"]!["definition"]!["budget"]!.GetValue<long>());

        (await marketing.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
        var submit = await OneAsync(AuditNames.Campaign, id, AuditNames.Submitted, marketingId);
        Assert.Equal("draft", submit["before"]!["status"]!.GetValue<string>());
        Assert.Equal("pending_approval", submit["after"]!["status"]!.GetValue<string>());

        (await finance.PostAsJsonAsync($"/api/v1/campaigns/{id}/approve", new { note = "fits Q4", reasonCode = "within_budget" }))
            .EnsureSuccessStatusCode();
        var approve = await OneAsync(AuditNames.Campaign, id, AuditNames.Approved, financeId);
        Assert.Equal("active", approve["after"]!["status"]!.GetValue<string>());
        Assert.Equal("within_budget", approve["reasonCode"]!.GetValue<string>());
        Assert.Equal("fits Q4", approve["note"]!.GetValue<string>());

        foreach (var (route, action) in new[] { ("pause", AuditNames.Paused), ("resume", AuditNames.Resumed), ("close", AuditNames.Closed) })
        {
            (await marketing.PostAsync($"/api/v1/campaigns/{id}/{route}", null)).EnsureSuccessStatusCode();
            await OneAsync(AuditNames.Campaign, id, action, marketingId);
        }

        Assert.Equal(7, (await EntriesAsync(AuditNames.Campaign, id)).Length);

        // Coupon issuance: one entry per call, whatever the count.
        var other = await api.CreateActiveCampaignAsync();
        (await marketing.PostAsJsonAsync($"/api/v1/campaigns/{other}/coupons", new { count = 250, prefix = "AUD" })).EnsureSuccessStatusCode();
        var issued = await OneAsync(AuditNames.Coupons, other, AuditNames.Issued, marketingId);
        Assert.Equal(250, issued["after"]!["count"]!.GetValue<int>());

        // Dealer upsert: before is null the first time, the old profile the second.
        var dealer = "D-AUD-" + Guid.NewGuid().ToString("N")[..6];
        (await marketing.PutAsJsonAsync($"/api/v1/dealers/{dealer}", new { name = "First", channelTier = "dealer" })).EnsureSuccessStatusCode();
        (await marketing.PutAsJsonAsync($"/api/v1/dealers/{dealer}", new { name = "Second", channelTier = "dealer" })).EnsureSuccessStatusCode();
        var upserts = await EntriesAsync(AuditNames.Dealer, dealer, AuditNames.Upserted);
        Assert.Equal(2, upserts.Length);
        Assert.Equal("First", upserts[1]["after"]!["name"]!.GetValue<string>());
        Assert.Null(upserts[1]["before"]);
        Assert.Equal("First", upserts[0]["before"]!["name"]!.GetValue<string>());
        Assert.Equal("Second", upserts[0]["after"]!["name"]!.GetValue<string>());

        // API keys: create, rotate, revoke; never a secret or hash in the trail.
        var (keyId, _) = await api.CreateKeyWithIdAsync(Roles.Ops);
        await OneAsync(AuditNames.ApiKey, keyId, AuditNames.Created, "K-bootstrap");
        (await api.Admin.PostAsync($"/api/v1/api-keys/{keyId}/rotation", null)).EnsureSuccessStatusCode();
        await OneAsync(AuditNames.ApiKey, keyId, AuditNames.Rotated, "K-bootstrap");
        (await api.Admin.DeleteAsync($"/api/v1/api-keys/{keyId}")).EnsureSuccessStatusCode();
        var revoked = await OneAsync(AuditNames.ApiKey, keyId, AuditNames.Revoked, "K-bootstrap");
        Assert.Null(revoked["before"]!["revokedAt"]);
        Assert.NotNull(revoked["after"]!["revokedAt"]);
        var trail = string.Join("", (await EntriesAsync(AuditNames.ApiKey, keyId)).Select(e => e.ToJsonString()));
        Assert.DoesNotContain("cg_", trail);
        Assert.DoesNotContain("keyHash", trail);
    }

    private static string? Text(JsonNode? node, string member) => node?[member]?.GetValue<string>();

    /// <summary>A fresh dealer with a key of its own.</summary>
    private async Task<(string Dealer, string KeyId, HttpClient Client)> DealerWithKeyAsync()
    {
        var dealer = "D-AUD-" + Guid.NewGuid().ToString("N")[..8];
        await api.PutDealerAsync(dealer);
        var (keyId, client) = await KeyAsync(Roles.Dealer, dealer);
        return (dealer, keyId, client);
    }

    private async Task<(string Id, HttpClient Client)> KeyAsync(string role, string? dealerId = null)
    {
        var (id, key) = await api.CreateKeyWithIdAsync(role, dealerId);
        return (id, api.Client(key));
    }

    [Fact]
    public async Task RedemptionsApprovalsAndRejectionsWriteExactlyOneEntryWithTheirActorAndStates()
    {
        var (dealer, dealerKeyId, dealerClient) = await DealerWithKeyAsync();
        var (opsId, ops) = await KeyAsync(Roles.Ops);
        var campaign = await api.CreateActiveCampaignAsync();

        // Redeem, invoice (twice, the same invoice: one change), reverse: one entry each, by whoever made the call.
        var id = await SecurityData.RedemptionAsync(api, dealerClient, campaign, dealer);
        var redeemed = await OneAsync(AuditNames.Redemption, id, AuditNames.Redeemed, dealerKeyId);
        Assert.Null(redeemed["before"]);
        Assert.Equal(dealer, Text(redeemed["after"], "dealerId"));
        Assert.Equal(1000, redeemed["after"]!["discount"]!.GetValue<long>());

        var invoice = new { invoiceNumber = "INV-" + id, invoiceDate = SecurityData.Today };
        (await dealerClient.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice", invoice)).EnsureSuccessStatusCode();
        (await dealerClient.PostAsJsonAsync($"/api/v1/redemptions/{id}/invoice", invoice)).EnsureSuccessStatusCode();
        var invoiced = await OneAsync(AuditNames.Redemption, id, AuditNames.Invoiced, dealerKeyId);
        Assert.Null(Text(invoiced["before"], "invoiceNumber"));
        Assert.Equal("INV-" + id, Text(invoiced["after"], "invoiceNumber"));

        (await ops.PostAsJsonAsync($"/api/v1/redemptions/{id}/reversal", new { reason = "returned unopened" })).EnsureSuccessStatusCode();
        var reversed = await OneAsync(AuditNames.Redemption, id, AuditNames.Reversed, opsId);
        Assert.Equal(RedemptionStatuses.Committed, Text(reversed["before"], "status"));
        Assert.Equal(RedemptionStatuses.Reversed, Text(reversed["after"], "status"));
        Assert.Equal(1000, reversed["after"]!["reversedDiscount"]!.GetValue<long>());
        Assert.Equal(1, reversed["after"]!["reversals"]!.GetValue<int>());
        Assert.Equal("INV-" + id, Text(reversed["after"], "invoiceNumber"));
        Assert.Equal("returned unopened", Text(reversed, "note"));
        Assert.Equal(3, (await EntriesAsync(AuditNames.Redemption, id)).Length);

        // An approval decided by an approver.
        var (approverId, approver) = await KeyAsync(Roles.Approver);
        var approval = (await api.Services.GetRequiredService<IGrainFactory>().GetGrain<IApprovalGrain>(0).CreateAsync(new ApprovalRequest
        {
            DealerId = dealer, OrderHash = "h-" + Guid.NewGuid().ToString("N"), Amount = 500, Reason = ApprovalReasons.Goodwill,
        }, Actor.System)).Id;
        (await approver.PostAsJsonAsync($"/api/v1/approvals/{approval}/decision", new { decision = "approve", reasonCode = "ok" }))
            .EnsureSuccessStatusCode();
        var approved = await OneAsync(AuditNames.Approval, approval, ApprovalStatuses.Approved, approverId);
        Assert.Equal(ApprovalStatuses.Pending, Text(approved["before"], "status"));
        Assert.Equal(ApprovalStatuses.Approved, Text(approved["after"], "status"));

        // A campaign rejected by finance.
        var (financeId, finance) = await KeyAsync(Roles.Finance);
        var pending = await SecurityData.IdOf(await api.Admin.PostAsJsonAsync("/api/v1/campaigns", SecurityData.Campaign()));
        (await api.Admin.PostAsync($"/api/v1/campaigns/{pending}/submit", null)).EnsureSuccessStatusCode();
        (await finance.PostAsJsonAsync($"/api/v1/campaigns/{pending}/reject", new { reasonCode = "budget_too_high" }))
            .EnsureSuccessStatusCode();
        var rejected = await OneAsync(AuditNames.Campaign, pending, AuditNames.Rejected, financeId);
        Assert.Equal("pending_approval", Text(rejected["before"], "status"));
        Assert.Equal("rejected", Text(rejected["after"], "status"));
        Assert.Equal("budget_too_high", Text(rejected, "reasonCode"));
    }

    [Fact]
    public async Task BlacklistFraudClaimAndSettlementCallsWriteExactlyOneEntryWithTheirActorAndStates()
    {
        var (dealer, dealerKeyId, dealerClient) = await DealerWithKeyAsync();
        var (opsId, ops) = await KeyAsync(Roles.Ops);
        var (financeId, finance) = await KeyAsync(Roles.Finance);

        // Blacklist: added with the entry after, removed with the entry before.
        var customer = "CU-AUD-" + Guid.NewGuid().ToString("N")[..6];
        var entry = await SecurityData.IdOf(await ops.PostAsJsonAsync("/api/v1/blacklist", new { kind = "customer", value = customer, reason = "chargebacks" }));
        var added = await OneAsync(PipelineAuditNames.Blacklist, entry, PipelineAuditNames.Added, opsId);
        Assert.Null(added["before"]);
        Assert.Equal(customer, Text(added["after"], "value"));
        (await ops.DeleteAsync($"/api/v1/blacklist/{entry}")).EnsureSuccessStatusCode();
        var removed = await OneAsync(PipelineAuditNames.Blacklist, entry, PipelineAuditNames.Removed, opsId);
        Assert.Equal(customer, Text(removed["before"], "value"));
        Assert.Null(removed["after"]);
        Assert.Equal(2, (await EntriesAsync(PipelineAuditNames.Blacklist, entry)).Length);

        // A fraud flag confirmed by ops.
        var flag = await SecurityData.FraudFlagAsync(api, dealer);
        (await ops.PostAsJsonAsync($"/api/v1/fraud/flags/{flag}/decision", new { decision = "confirm", note = "same order twice" })).EnsureSuccessStatusCode();
        var confirmed = await OneAsync(PipelineAuditNames.FraudFlag, flag, PipelineAuditNames.Confirmed, opsId);
        Assert.Equal(FraudFlagStatuses.Open, Text(confirmed["before"], "status"));
        Assert.Equal(FraudFlagStatuses.Confirmed, Text(confirmed["after"], "status"));
        Assert.Equal("same order twice", Text(confirmed, "note"));

        // A claim submitted by the dealer, partially accepted by finance, then credited.
        var claim = await SecurityData.ClaimAsync(dealerClient, dealer);
        var submitted = await OneAsync(PipelineAuditNames.Claim, claim, PipelineAuditNames.Submitted, dealerKeyId);
        Assert.Equal(5_000, submitted["after"]!["amount"]!.GetValue<long>());
        Assert.Equal("warranty", Text(submitted, "reasonCode"));
        Assert.Single(submitted["documents"]!.AsArray());
        (await finance.PostAsJsonAsync($"/api/v1/claims/{claim}/decision",
            new { decision = "partially_accept", acceptedAmount = 3_000, reasonCode = "amount_not_supported" })).EnsureSuccessStatusCode();
        var decided = await OneAsync(PipelineAuditNames.Claim, claim, ClaimStatuses.PartiallyAccepted, financeId);
        Assert.Equal(ClaimStatuses.Submitted, Text(decided["before"], "status"));
        Assert.Equal(ClaimStatuses.PartiallyAccepted, Text(decided["after"], "status"));
        Assert.Equal(3_000, decided["after"]!["acceptedAmount"]!.GetValue<long>());
        Assert.Equal(2, (await EntriesAsync(PipelineAuditNames.Claim, claim)).Length);

        var notes = await finance.PostAsJsonAsync("/api/v1/settlements/credit-notes", SecurityData.CreditNoteRun(dealer));
        var note = Assert.Single((await notes.Content.ReadFromJsonAsync<JsonArray>())!)!["id"]!.GetValue<string>();
        var generated = await OneAsync(PipelineAuditNames.CreditNote, note, PipelineAuditNames.Generated, financeId);
        Assert.Null(generated["before"]);
        Assert.Equal(dealer, Text(generated["after"], "dealerId"));
        Assert.Equal(3_000, generated["after"]!["total"]!.GetValue<long>());

        // The delivery-proof rule: each change with what it replaced.
        var campaign = await api.CreateActiveCampaignAsync();
        foreach (var required in new[] { true, false })
        {
            (await finance.PutAsJsonAsync($"/api/v1/settlements/campaigns/{campaign}/delivery-proof", new { required })).EnsureSuccessStatusCode();
        }

        var rules = await EntriesAsync(PipelineAuditNames.SettlementRule, campaign, AuditNames.Updated);
        Assert.Equal(2, rules.Length);
        Assert.All(rules, r => Assert.Equal(financeId, Text(r, "actorKeyId")));
        Assert.Null(rules[1]["before"]);
        Assert.True(rules[1]["after"]!["requiresDeliveryProof"]!.GetValue<bool>());
        Assert.True(rules[0]["before"]!["requiresDeliveryProof"]!.GetValue<bool>());
        Assert.False(rules[0]["after"]!["requiresDeliveryProof"]!.GetValue<bool>());
    }

    [Fact]
    public async Task DryRunsWriteNoEntry()
    {
        var (dealer, keyId, client) = await DealerWithKeyAsync();
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign, dealerId: dealer);

        (await client.PostAsJsonAsync("/api/v1/validations", ApiFixture.Order(code, dealer))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/qualifications", ApiFixture.Order(code, dealer))).EnsureSuccessStatusCode();
        var (marketingId, marketing) = await KeyAsync(Roles.Marketing);
        (await marketing.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/projection",
            new { catalogue = new[] { new { sku = "BP-220", category = "brakes", unitPrice = 1000, unitCost = 700 } } })).EnsureSuccessStatusCode();

        foreach (var actor in new[] { keyId, marketingId })
        {
            var page = await api.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/audit?actorKeyId={actor}");
            Assert.Empty(page!["items"]!.AsArray());
        }
    }

    [Fact]
    public async Task TheAuditQueryFiltersAndPagesByKeyset()
    {
        var dealer = "D-AUDPAGE-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 5; i++)
        {
            (await api.Admin.PutAsJsonAsync($"/api/v1/dealers/{dealer}", new { name = $"N{i}", channelTier = "dealer" })).EnsureSuccessStatusCode();
        }

        var seen = new List<long>();
        string? next = null;
        do
        {
            var page = await api.Admin.GetFromJsonAsync<JsonObject>(
                $"/api/v1/audit?entityType=dealer&entityId={dealer}&limit=2" + (next is null ? "" : $"&next={next}"));
            var items = page!["items"]!.AsArray();
            Assert.True(items.Count <= 2);
            seen.AddRange(items.Select(i => i!["id"]!.GetValue<long>()));
            next = page["next"]?.GetValue<string>();
        }
        while (next is not null);

        Assert.Equal(5, seen.Count);
        Assert.Equal(seen.OrderByDescending(x => x), seen);
        var future = await api.Admin.GetFromJsonAsync<JsonObject>(
            $"/api/v1/audit?entityId={dealer}&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        Assert.Empty(future!["items"]!.AsArray());
        var bad = await api.Admin.GetAsync("/api/v1/audit?limit=501");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("invalid_request", await ApiFixture.CodeOf(bad));
        Assert.Equal(HttpStatusCode.BadRequest, (await api.Admin.GetAsync("/api/v1/audit?from=yesterday")).StatusCode);
    }

    [Fact]
    public async Task TheVerifyEndpointFindsTheLiveChainIntact()
    {
        (await api.Admin.PutAsJsonAsync("/api/v1/dealers/D-AUDV", new { name = "V", channelTier = "dealer" })).EnsureSuccessStatusCode();
        var response = await api.Admin.PostAsync("/api/v1/audit/verify", null);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(body!["intact"]!.GetValue<bool>(), body.ToJsonString());
        Assert.True(body["verifiedThroughSeq"]!.GetValue<long>() > 0);
    }

    /// <summary>A chain of its own, on a database of its own, so tampering never disturbs the other tests.</summary>
    private static async Task<(AuditLog Log, string ConnectionString, NpgsqlDataSource Source)> FreshLogAsync()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_audit");
        await MigrationRunner.ApplyAsync(cs);
        var source = Database.CreateDataSource(cs);
        var log = new AuditLog(new Database(source), NullLogger<AuditLog>.Instance);
        for (var i = 0; i < 10; i++)
        {
            await log.AppendAsync(AuditEntry.For(new Actor("K-t", Roles.Admin, null), AuditNames.Updated, AuditNames.Dealer, $"D-{i}") with
            {
                Before = $"{{\"n\":{i}}}",
                After = $"{{\"n\":{i + 1}, \"tags\": [\"a\"]}}",
                Note = "ünïcode note",
            }, CancellationToken.None);
        }

        Assert.Equal(10, await log.SealPendingAsync(CancellationToken.None));
        var intact = await log.VerifyAsync(CancellationToken.None);
        Assert.True(intact.Intact);
        Assert.Equal(10, intact.VerifiedThroughSeq);
        return (log, cs, source);
    }

    private static Task ExecuteAsync(string cs, string sql) => TestPostgres.ScalarAsync<object>(cs, sql + "; SELECT 1");

    /// <summary>What an attacker with the superuser's rights does: the guard triggers off, the edit, the triggers on.</summary>
    private static Task TamperAsync(string cs, string sql) => ExecuteAsync(cs,
        $"""
        ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE audit_seals DISABLE TRIGGER USER;
        {sql};
        ALTER TABLE audit_log ENABLE TRIGGER USER; ALTER TABLE audit_seals ENABLE TRIGGER USER
        """);

    /// <summary>The audit row sealed at <paramref name="seq"/>.</summary>
    private static string RowAt(int seq) => $"id = (SELECT audit_id FROM audit_seals WHERE seq = {seq})";

    private static void AssertBrokenAt(AuditVerification result, long seq, string problem)
    {
        Assert.False(result.Intact);
        Assert.Equal(seq, result.FirstBrokenSeq);
        Assert.Equal(problem, result.Problem);
    }

    [Fact]
    public async Task TheGuardsRefuseEveryEditOfARowOrOfItsSeal()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        string[] refusedEdits =
        [
            $"UPDATE audit_log SET note = 'x' WHERE {RowAt(4)}",
            $$"""UPDATE audit_log SET after = '{"n": 999}' WHERE {{RowAt(4)}}""",
            $"UPDATE audit_log SET tx = '5' WHERE {RowAt(4)}",
            $"DELETE FROM audit_log WHERE {RowAt(4)}",
            "TRUNCATE audit_log",
            "UPDATE audit_seals SET hash = '\\x00' WHERE seq = 4",
            "UPDATE audit_seals SET seq = 99 WHERE seq = 4",
            "UPDATE audit_seals SET audit_id = 5 WHERE seq = 4",
            "DELETE FROM audit_seals WHERE seq = 10",
            "TRUNCATE audit_seals",
        ];
        foreach (var sql in refusedEdits)
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs, sql));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }

        // An unsealed row's content is as frozen; the sealer never touches it, and it still seals.
        await log.AppendAsync(AuditEntry.For(new Actor("K-t", Roles.Admin, null), AuditNames.Updated, AuditNames.Dealer, "D-NEW"), CancellationToken.None);
        var unsealed = await Assert.ThrowsAsync<PostgresException>(() =>
            ExecuteAsync(cs, "UPDATE audit_log SET note = 'x' WHERE entity_id = 'D-NEW'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, unsealed.SqlState);
        Assert.Equal(1, await log.SealPendingAsync(CancellationToken.None));
        var intact = await log.VerifyAsync(CancellationToken.None);
        Assert.True(intact.Intact);
        Assert.Equal(11, intact.VerifiedThroughSeq);
    }

    [Fact]
    public async Task AnEditedRowIsDetectedAtItsSeq()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        // The trigger refuses the edit; only a superuser who disables it can make one.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs, $"UPDATE audit_log SET note = 'x' WHERE {RowAt(4)}"));
        Assert.Contains("append-only", refused.MessageText);

        await TamperAsync(cs, $$"""UPDATE audit_log SET after = '{"n": 999}' WHERE {{RowAt(4)}}""");

        AssertBrokenAt(await log.VerifyAsync(CancellationToken.None), 4, "hash_mismatch");
    }

    public static TheoryData<string> DeletesAtSeven => new() { $"DELETE FROM audit_log WHERE {RowAt(7)}", "DELETE FROM audit_seals WHERE seq = 7" };

    [Theory]
    [MemberData(nameof(DeletesAtSeven))]
    public async Task ADeletedRowOrSealIsDetectedAsAGap(string delete)
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs, delete));

        await TamperAsync(cs, delete);

        AssertBrokenAt(await log.VerifyAsync(CancellationToken.None), 7, "missing_row");
    }

    [Fact]
    public async Task RemovingTheNewestRowsIsDetectedByTheChainHead()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        await TamperAsync(cs, "DELETE FROM audit_log WHERE id IN (SELECT audit_id FROM audit_seals WHERE seq >= 9); DELETE FROM audit_seals WHERE seq >= 9");

        AssertBrokenAt(await log.VerifyAsync(CancellationToken.None), 9, "head_mismatch");
    }

    [Fact]
    public async Task RowsWrittenInsideAnotherTransactionAreSealedInOrderAndRolledBackWithIt()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        await using (var connection = await source.OpenConnectionAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            await using var batch = new NpgsqlBatch(connection, tx);
            batch.BatchCommands.Add(AuditSql.CommandForMany([
                new AuditEntry { Action = "redeemed", EntityType = AuditNames.Redemption, EntityId = "R-1" },
                new AuditEntry { Action = "redeemed", EntityType = AuditNames.Redemption, EntityId = "R-2" },
            ]));
            await batch.ExecuteNonQueryAsync();
            await tx.RollbackAsync();
        }

        await using (var batch = source.CreateBatch())
        {
            batch.BatchCommands.Add(AuditSql.CommandForMany([
                new AuditEntry { Action = "redeemed", EntityType = AuditNames.Redemption, EntityId = "R-3", After = "{\"discount\": 5}" },
                new AuditEntry { Action = "redeemed", EntityType = AuditNames.Redemption, EntityId = "R-4" },
            ]));
            await batch.ExecuteNonQueryAsync();
        }

        Assert.Equal(2, await log.SealPendingAsync(CancellationToken.None));
        var page = await log.QueryAsync(new AuditQuery { EntityType = AuditNames.Redemption }, CancellationToken.None);
        Assert.Equal(["R-4", "R-3"], page.Items.Select(i => i.Entry.EntityId));
        Assert.Equal([12L, 11L], page.Items.Select(i => i.Seq!.Value));
        Assert.True((await log.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task ARowWhoseTransactionIsStillOpenHoldsBackLaterRowsAndIsChainedBeforeThem()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        var entry = new AuditEntry { Action = "redeemed", EntityType = AuditNames.Redemption, EntityId = "R-LATE" };

        // A row takes its id and waits to commit, while far later ids are taken and committed.
        await using var late = await source.OpenConnectionAsync();
        await using var lateTx = await late.BeginTransactionAsync();
        await using (var insert = new NpgsqlBatch(late, lateTx))
        {
            insert.BatchCommands.Add(AuditSql.Command(entry));
            await insert.ExecuteNonQueryAsync();
        }

        await ExecuteAsync(cs, "SELECT setval('audit_log_id_seq', 500000)");
        for (var i = 0; i < 3; i++)
        {
            await log.AppendAsync(entry with { EntityId = $"R-AFTER-{i}" }, CancellationToken.None);
        }

        // Until it ends, the rows after it cannot be sealed: it might still commit, and then its place is before them.
        Assert.Equal(0, await log.SealAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Equal(3, (await log.VerifyAsync(CancellationToken.None)).Unsealed);

        await lateTx.CommitAsync();
        Assert.Equal(4, await log.SealPendingAsync(CancellationToken.None));

        var page = await log.QueryAsync(new AuditQuery { EntityType = AuditNames.Redemption }, CancellationToken.None);
        Assert.Equal(["R-LATE", "R-AFTER-0", "R-AFTER-1", "R-AFTER-2"], page.Items.OrderBy(i => i.Seq).Select(i => i.Entry.EntityId));
        Assert.Equal([11L, 12L, 13L, 14L], page.Items.Select(i => i.Seq!.Value).Order());
        var verified = await log.VerifyAsync(CancellationToken.None);
        Assert.True(verified.Intact);
        Assert.Equal(0, verified.Unsealed);
    }

    [Fact]
    public async Task RowsAreChainedInTheNumericOrderOfTheirTransactions()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("cg_audit_tx");
        await MigrationRunner.ApplyAsync(cs);
        await using var source = Database.CreateDataSource(cs);
        var log = new AuditLog(new Database(source), NullLogger<AuditLog>.Instance);
        // Transactions long ended (ids far below any open one), whose ids sort one way as numbers and the other as text.
        await ExecuteAsync(cs,
            """
            INSERT INTO audit_log (action, entity_type, entity_id, tx) VALUES
                ('created', 'dealer', 'D-TX-9', '9'), ('created', 'dealer', 'D-TX-10', '10'), ('created', 'dealer', 'D-TX-100', '100')
            """);
        Assert.Equal(3, await log.SealPendingAsync(CancellationToken.None));
        await log.AppendAsync(new AuditEntry { Action = "created", EntityType = "dealer", EntityId = "D-TX-NOW" }, CancellationToken.None);
        Assert.Equal(1, await log.SealPendingAsync(CancellationToken.None));

        var page = await log.QueryAsync(new AuditQuery { EntityType = "dealer" }, CancellationToken.None);
        Assert.Equal(["D-TX-9", "D-TX-10", "D-TX-100", "D-TX-NOW"], page.Items.OrderBy(i => i.Seq).Select(i => i.Entry.EntityId));
        Assert.True((await log.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task RowsSealedBeforeTheSealTableKeepTheirPlaceAndTheUnsealedOnesAreSealedAfterThem()
    {
        // A database as the previous version left it: rows sealed in audit_log itself, and one not yet sealed.
        var cs = await TestPostgres.CreateDatabaseAsync("cg_audit_up");
        await MigrationRunner.ApplyAsync(cs, upTo: 12);
        await ExecuteAsync(cs,
            """
            INSERT INTO audit_log (id, at, action, entity_type, entity_id) VALUES
                (1, '2026-01-01T00:00:00Z', 'created', 'dealer', 'D-1'),
                (2, '2026-01-01T00:00:01Z', 'created', 'dealer', 'D-2'),
                (3, '2026-01-01T00:00:02Z', 'created', 'dealer', 'D-3')
            """);
        var genesis = AuditChain.Genesis;
        var h1 = AuditChain.Hash(genesis, new AuditRowContent(1, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), null, null, "created", "dealer", "D-1", null, null, null, null, null));
        var h2 = AuditChain.Hash(h1, new AuditRowContent(2, new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc), null, null, "created", "dealer", "D-2", null, null, null, null, null));
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await using var seal = new NpgsqlCommand(
                """
                UPDATE audit_log SET seq = id, prev_hash = CASE id WHEN 1 THEN @g ELSE @h1 END, hash = CASE id WHEN 1 THEN @h1 ELSE @h2 END WHERE id <= 2;
                INSERT INTO audit_chain_head (singleton, seq, hash) VALUES (true, 2, @h2)
                """, connection);
            seal.Parameters.AddWithValue("g", genesis);
            seal.Parameters.AddWithValue("h1", h1);
            seal.Parameters.AddWithValue("h2", h2);
            await seal.ExecuteNonQueryAsync();
        }

        await MigrationRunner.ApplyAsync(cs);
        await using var source = Database.CreateDataSource(cs);
        var log = new AuditLog(new Database(source), NullLogger<AuditLog>.Instance);
        await ExecuteAsync(cs, "SELECT setval('audit_log_id_seq', 3)");
        await log.AppendAsync(new AuditEntry { Action = "created", EntityType = "dealer", EntityId = "D-4" }, CancellationToken.None);

        Assert.Equal(2, await log.SealPendingAsync(CancellationToken.None));
        var page = await log.QueryAsync(new AuditQuery { EntityType = "dealer" }, CancellationToken.None);
        Assert.Equal(["D-1", "D-2", "D-3", "D-4"], page.Items.OrderBy(i => i.Seq).Select(i => i.Entry.EntityId));
        Assert.Equal([1L, 2L, 3L, 4L], page.Items.Select(i => i.Seq!.Value).Order());
        var verified = await log.VerifyAsync(CancellationToken.None);
        Assert.True(verified.Intact);
        Assert.Equal(4, verified.VerifiedThroughSeq);
    }
}
