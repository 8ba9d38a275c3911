using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Grains.Fraud;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Pipeline;

/// <summary>Each rule fires on a crafted scenario and stays quiet on a clean one of the same size.</summary>
[Collection(PipelineCollection.Name)]
public sealed class FraudTests(PipelineFixture fixture)
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.UtcNow;

    private FraudStore Store => fixture.Services.GetRequiredService<FraudStore>();

    private static RedemptionEvent Committed(string tag, int i, string dealer, string? order = null, string? code = null,
        string? customer = null, DateTimeOffset? at = null, string? branch = null) => new()
    {
        EventId = $"R-{tag}-{i}:committed",
        RedemptionId = $"R-{tag}-{i}",
        Type = RedemptionEventType.Committed,
        CampaignId = "C-" + tag,
        DealerId = dealer,
        BranchId = branch,
        OrderId = order ?? $"SO-{tag}-{i}",
        Code = code ?? $"CODE-{tag}-{i}",
        CustomerId = customer ?? $"CU-{tag}-{i}",
        Currency = "INR",
        Discount = 100,
        Amount = 100,
        RedeemedAt = at ?? s_now,
    };

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private Task<long> FlagsAsync(string type, string like) => TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
        "SELECT count(*) FROM fraud_flags WHERE type = @t AND subject LIKE @s", ("t", type), ("s", like));

    private Task InLedgerAsync(IEnumerable<RedemptionEvent> events, string status = "committed") =>
        EventBatches.InLedgerAsync(fixture.ConnectionString, events, status);

    private Task RedeemedAsync(RedemptionEvent[] events) => Store.ApplyRedeemedAsync(fixture.ConnectionString, events);

    [Fact]
    public async Task DuplicateOrderFiresOnARepeatedOrderOnly()
    {
        string crafted = Tag(), clean = Tag(), tombstoned = Tag();
        await RedeemedAsync(Enumerable.Range(0, 6).Select(i => Committed(crafted, i, "D-" + crafted, order: i < 2 ? "SO-SAME" : null)).ToArray());
        await RedeemedAsync(Enumerable.Range(0, 6).Select(i => Committed(clean, i, "D-" + clean)).ToArray());
        // An attempt on the same order that was aborted (its tombstone took its id) is no second redemption of the order.
        await InLedgerAsync([Committed(tombstoned, 9, "D-" + tombstoned, order: "SO-SAME")], "aborted");
        await RedeemedAsync([Committed(tombstoned, 0, "D-" + tombstoned, order: "SO-SAME")]);
        Assert.Equal(1, await FlagsAsync("duplicate_order", $"C-{crafted}/%"));
        Assert.Equal(0, await FlagsAsync("duplicate_order", $"C-{clean}/%"));
        Assert.Equal(0, await FlagsAsync("duplicate_order", $"C-{tombstoned}/%"));

        var flags = (await fixture.Admin.GetFromJsonAsync<JsonArray>($"/api/v1/fraud/flags?type=duplicate_order&dealerId=D-{crafted}"))!;
        var flag = Assert.Single(flags)!;
        var evidence = JsonNode.Parse(flag["evidence"]!.GetValue<string>())!;
        Assert.Equal("SO-SAME", evidence["orderId"]!.GetValue<string>());
        Assert.Equal([$"R-{crafted}-0", $"R-{crafted}-1"], evidence["redemptionIds"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal([$"CODE-{crafted}-0", $"CODE-{crafted}-1"], evidence["codes"]!.AsArray().Select(n => n!.GetValue<string>()).Order());
        Assert.Equal(80, flag["score"]!.GetValue<int>()); // two redemptions on the order
        var ops = fixture.Client(await fixture.CreateKeyAsync("ops"));
        var decided = await ops.PostAsJsonAsync($"/api/v1/fraud/flags/{flag["id"]}/decision", new { decision = "dismiss", note = "same order, two lines" });
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict,
            (await ops.PostAsJsonAsync($"/api/v1/fraud/flags/{flag["id"]}/decision", new { decision = "confirm" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.GetAsync("/api/v1/fraud/flags?type=nonsense")).StatusCode);
    }

    [Fact]
    public async Task DuplicateInvoiceFiresOnAnInvoiceMappedTwiceOnly()
    {
        string crafted = Tag(), clean = Tag();
        foreach (var (tag, same) in new[] { (crafted, true), (clean, false) })
        {
            var committed = Enumerable.Range(0, 6).Select(i => Committed(tag, i, "D-" + tag)).ToArray();
            await Store.ApplyAsync(committed);
            await Store.ApplyAsync(committed.Select((e, i) => e with
            {
                EventId = $"{e.RedemptionId}:invoiced", Type = RedemptionEventType.Invoiced,
                InvoiceNumber = same && i < 2 ? "INV-SAME" : $"INV-{i}",
            }).ToArray());
        }

        Assert.Equal(1, await FlagsAsync("duplicate_invoice", $"C-{crafted}/%"));
        Assert.Equal(0, await FlagsAsync("duplicate_invoice", $"C-{clean}/%"));
    }

    [Fact]
    public async Task VelocityFiresOnASpikeAgainstTheEntitysOwnBaselineOnly()
    {
        string crafted = Tag(), clean = Tag();
        var start = new DateTimeOffset(s_now.Year, s_now.Month, s_now.Day, s_now.Hour, s_now.Minute, 0, TimeSpan.Zero).AddMinutes(-61);
        // Both 160 redemptions over 61 minutes: crafted is 2 a minute then 40 in the last minute; clean is steady.
        var spike = Enumerable.Range(0, 120).Select(i => Committed(crafted, i, "D-" + crafted, at: start.AddSeconds(i * 30)))
            .Concat(Enumerable.Range(120, 40).Select(i => Committed(crafted, i, "D-" + crafted, at: start.AddMinutes(60).AddSeconds(i - 120))))
            .ToArray();
        var steady = Enumerable.Range(0, 160).Select(i => Committed(clean, i, "D-" + clean, at: start.AddSeconds(i * 61 * 60 / 160))).ToArray();
        foreach (var chunk in spike.Chunk(40))
        {
            await Store.ApplyAsync(chunk);
        }

        foreach (var chunk in steady.Chunk(40))
        {
            await Store.ApplyAsync(chunk);
        }

        Assert.Equal(1, await FlagsAsync("velocity", $"dealer:D-{crafted}@%"));
        Assert.Equal(0, await FlagsAsync("velocity", $"dealer:D-{clean}@%"));
    }

    [Fact]
    public async Task CodeSharingFiresOnAGeneratedCodeUsedBySeveralDealersOnly()
    {
        string crafted = Tag(), clean = Tag();
        await Store.ApplyAsync(Enumerable.Range(0, 6).Select(i => Committed(crafted, i, $"D-{crafted}-{i % 3}", code: "SHARED-" + crafted)).ToArray());
        await Store.ApplyAsync(Enumerable.Range(0, 6).Select(i => Committed(clean, i, $"D-{clean}-0", code: "SHARED-" + clean)).ToArray());
        Assert.Equal(1, await FlagsAsync("code_sharing", "SHARED-" + crafted));
        Assert.Equal(0, await FlagsAsync("code_sharing", "SHARED-" + clean));
    }

    [Fact]
    public async Task ANamedCodeUsedByManyDealersIsNeitherFlaggedNorTrackedPerDealer()
    {
        var tag = Tag();
        var code = "PUBLIC-" + tag;
        await TestPostgres.ScalarAsync<int>(fixture.ConnectionString,
            "INSERT INTO coupons (code, campaign_id, named) VALUES (@c, @k, true) RETURNING 1", ("c", code), ("k", "C-" + tag));
        await Store.ApplyAsync(Enumerable.Range(0, 6).Select(i => Committed(tag, i, $"D-{tag}-{i % 3}", code: code)).ToArray());

        Assert.Equal(0, await FlagsAsync("code_sharing", code));
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM fraud_code_dealers WHERE code = @c", ("c", code)));
        // The redemptions themselves are counted all the same.
        Assert.Equal(6L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT sum(n) FROM fraud_rates WHERE kind = 'code' AND entity = @c", ("c", code)));
    }

    [Fact]
    public async Task OneCustomerAcrossManyDealersFiresOnlyWhenTheCustomerSpreads()
    {
        string crafted = Tag(), clean = Tag();
        await Store.ApplyAsync(Enumerable.Range(0, 6).Select(i => Committed(crafted, i, $"D-{crafted}-{i % 3}", customer: "CU-" + crafted)).ToArray());
        await Store.ApplyAsync(Enumerable.Range(0, 6).Select(i => Committed(clean, i, $"D-{clean}-0", customer: "CU-" + clean)).ToArray());
        Assert.Equal(1, await FlagsAsync("customer_across_dealers", "CU-" + crafted));
        Assert.Equal(0, await FlagsAsync("customer_across_dealers", "CU-" + clean));

        var evidence = JsonNode.Parse(await TestPostgres.ScalarAsync<string>(fixture.ConnectionString,
            "SELECT evidence::text FROM fraud_flags WHERE type = 'customer_across_dealers' AND subject = @s", ("s", "CU-" + crafted)))!;
        Assert.Equal([$"D-{crafted}-0", $"D-{crafted}-1", $"D-{crafted}-2"], evidence["dealers"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(6, evidence["redemptions"]!.GetValue<int>());
    }

    [Fact]
    public async Task ABlacklistedDealerCustomerOrCodeIsRefusedAtOnceAndFreedOnRemoval()
    {
        var blacklist = fixture.Services.GetRequiredService<Blacklist>();
        var tag = Tag();
        Assert.Null(await blacklist.CheckAsync("D-" + tag, "CU-" + tag, "CODE" + tag.ToUpperInvariant()));
        var ops = fixture.Client(await fixture.CreateKeyAsync("ops"));
        var added = await ops.PostAsJsonAsync("/api/v1/blacklist", new { kind = "customer", value = "CU-" + tag, reason = "chargeback ring" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var id = (await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var rejection = await blacklist.CheckAsync("D-" + tag, "CU-" + tag, "CODE" + tag.ToUpperInvariant());
        Assert.Equal(RejectionCode.Blacklisted, rejection?.Code);
        Assert.Null(await blacklist.CheckAsync("D-" + tag, "CU-OTHER", "CODE" + tag.ToUpperInvariant()));

        var expired = await ops.PostAsJsonAsync("/api/v1/blacklist",
            new { kind = "dealer", value = "D-" + tag, reason = "test", expiresAt = DateTimeOffset.UtcNow.AddSeconds(-5) });
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync("/api/v1/blacklist", new { kind = "planet", value = "x", reason = "y" })).StatusCode);
        var dealerKey = fixture.Client(await fixture.CreateKeyAsync("dealer", "D-" + tag));
        Assert.Equal(HttpStatusCode.Forbidden, (await dealerKey.GetAsync("/api/v1/blacklist")).StatusCode);

        var list = (await ops.GetFromJsonAsync<JsonArray>("/api/v1/blacklist?kind=customer"))!;
        Assert.Contains(list, e => e!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.NoContent, (await ops.DeleteAsync($"/api/v1/blacklist/{id}")).StatusCode);
        Assert.Null(await blacklist.CheckAsync("D-" + tag, "CU-" + tag, "CODE" + tag.ToUpperInvariant()));
        Assert.Equal(HttpStatusCode.NotFound, (await ops.DeleteAsync($"/api/v1/blacklist/{id}")).StatusCode);
        Assert.Equal(2L, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM audit_log WHERE entity_type = 'blacklist' AND entity_id = @id", ("id", id)));
    }
}
