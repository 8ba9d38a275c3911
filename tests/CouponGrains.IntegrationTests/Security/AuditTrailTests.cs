using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Storage;
using CouponGrains.IntegrationTests.Infrastructure;
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

    /// <summary>What an attacker with the superuser's rights does: the guard trigger off, the edit, the trigger on.</summary>
    private static Task TamperAsync(string cs, string sql) => ExecuteAsync(cs,
        $"ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; {sql}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only");

    private static void AssertBrokenAt(AuditVerification result, long seq, string problem)
    {
        Assert.False(result.Intact);
        Assert.Equal(seq, result.FirstBrokenSeq);
        Assert.Equal(problem, result.Problem);
    }

    [Fact]
    public async Task AnEditedRowIsDetectedAtItsSeq()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        // The trigger refuses the edit; only a superuser who disables it can make one.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs, "UPDATE audit_log SET note = 'x' WHERE seq = 4"));
        Assert.Contains("append-only", refused.MessageText);

        await TamperAsync(cs, """UPDATE audit_log SET after = '{"n": 999}' WHERE seq = 4""");

        AssertBrokenAt(await log.VerifyAsync(CancellationToken.None), 4, "hash_mismatch");
    }

    [Fact]
    public async Task ADeletedRowIsDetectedAsAGap()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs, "DELETE FROM audit_log WHERE seq = 7"));

        await TamperAsync(cs, "DELETE FROM audit_log WHERE seq = 7");

        AssertBrokenAt(await log.VerifyAsync(CancellationToken.None), 7, "missing_row");
    }

    [Fact]
    public async Task RemovingTheNewestRowsIsDetectedByTheChainHead()
    {
        var (log, cs, source) = await FreshLogAsync();
        await using var _ = source;
        await TamperAsync(cs, "DELETE FROM audit_log WHERE seq >= 9");

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
}
