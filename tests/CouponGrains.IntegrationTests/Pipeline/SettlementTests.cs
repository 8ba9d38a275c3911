using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class SettlementTests(PipelineFixture fixture)
{
    [Fact]
    public async Task CreditNotesSumToInvoicedRedemptionsLessReversalsAndCreditEachRedemptionOnce()
    {
        var dealer = "D-ST-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var (campaign, code) = await fixture.CampaignWithCodeAsync(discount: 1_250);
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await fixture.RedeemAsync(fixture.Admin, code, dealer));
        }

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        for (var i = 0; i < 6; i++)
        {
            await fixture.InvoiceAsync(fixture.Admin, ids[i], $"INV-{dealer}-{i}", today.AddDays(-(i % 2)));
        }

        await fixture.ReverseAsync(fixture.Admin, ids[5]);   // invoiced, reversed before settlement: never credited
        await fixture.WaitForEmptyOutboxAsync();

        var period = new { dealerId = dealer, periodFrom = today.AddDays(-7).ToString("yyyy-MM-dd"), periodTo = today.ToString("yyyy-MM-dd") };
        var first = await Generate(period);
        var note = Assert.Single(first)!;
        Assert.Equal(5 * 1_250, note["total"]!.GetValue<long>());
        Assert.Equal(5, note["lines"]!.AsArray().Count);
        Assert.Empty(await Generate(period)); // nothing credited twice

        await fixture.ReverseAsync(fixture.Admin, ids[0]);   // reversal after settlement → a debit line
        await fixture.InvoiceAsync(fixture.Admin, ids[6], $"INV-{dealer}-6", today);
        await fixture.WaitForEmptyOutboxAsync();
        var second = Assert.Single(await Generate(period))!;
        var lines = second["lines"]!.AsArray();
        Assert.Contains(lines, l => l!["kind"]!.GetValue<string>() == "debit" && l["amount"]!.GetValue<long>() == -1_250);
        Assert.Contains(lines, l => l!["kind"]!.GetValue<string>() == "credit" && l["redemptionId"]!.GetValue<string>() == ids[6]);
        Assert.Equal(0, second["total"]!.GetValue<long>());

        // Σ credit notes = Σ invoiced − reversals, per dealer and period.
        var invoicedLessReversed = await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT sum(discount - reversed_discount)::bigint FROM redemptions WHERE dealer_id = @d AND invoice_number IS NOT NULL", ("d", dealer));
        var notes = await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT sum(total)::bigint FROM credit_notes WHERE dealer_id = @d", ("d", dealer));
        Assert.Equal(invoicedLessReversed, notes);

        // The ERP export and the reconciliation CSV tie redemption → invoice → credit note.
        var export = await fixture.Finance.GetFromJsonAsync<JsonObject>($"/api/v1/settlements/credit-notes/{note["id"]!.GetValue<string>()}");
        Assert.Equal(5, export!["lines"]!.AsArray().Count);
        var csv = await fixture.Finance.GetStringAsync(
            $"/api/v1/settlements/reconciliation.csv?dealerId={dealer}&from={today.AddDays(-1):yyyy-MM-dd}&to={today:yyyy-MM-dd}");
        var row = csv.Split('\n').Single(l => l.StartsWith(ids[1], StringComparison.Ordinal));
        Assert.Contains($"INV-{dealer}-1", row);
        Assert.Contains(note["id"]!.GetValue<string>(), row);

        // A dealer key sees its own notes only; another dealer gets 404 for this one.
        var own = fixture.Client(await fixture.CreateKeyAsync("dealer", dealer));
        Assert.Equal(2, (await own.GetFromJsonAsync<JsonArray>("/api/v1/settlements/credit-notes"))!.Count);
        var other = fixture.Client(await fixture.CreateKeyAsync("dealer", "D-OTHER-" + Guid.NewGuid().ToString("N")[..4]));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/settlements/credit-notes/{note["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await own.PostAsJsonAsync("/api/v1/settlements/credit-notes", period)).StatusCode);
    }

    [Fact]
    public async Task TheDeliveryProofRuleIsSetOnlyForACampaignThatExists()
    {
        var (campaign, _) = await fixture.CampaignWithCodeAsync(discount: 500);
        var unknown = "C-NOPE-" + Guid.NewGuid().ToString("N")[..8];

        var missing = await fixture.Finance.PutAsJsonAsync($"/api/v1/settlements/campaigns/{unknown}/delivery-proof", new { required = true });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("campaign", await missing.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM audit_log WHERE entity_id = @c", ("c", unknown)));
        Assert.Equal(0, await TestPostgres.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM settlement_campaign_rules WHERE campaign_id = @c", ("c", unknown)));

        var known = await fixture.Finance.PutAsJsonAsync($"/api/v1/settlements/campaigns/{campaign}/delivery-proof", new { required = true });
        Assert.Equal(HttpStatusCode.NoContent, known.StatusCode);
    }

    [Fact]
    public async Task PartialAcceptanceAndRejectionFlowIntoTheCreditNoteAndTheKpis()
    {
        var dealer = "D-CL-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.PutDealerAsync(dealer);
        var dealerClient = fixture.Client(await fixture.CreateKeyAsync("dealer", dealer));
        var document = new { uri = "https://docs.example.com/claims/1.pdf", sha256 = new string('a', 64) };
        async Task<string> Submit(long amount, string kind)
        {
            var response = await dealerClient.PostAsJsonAsync("/api/v1/claims",
                new { kind, amount, currency = "INR", description = "Warranty job card 17", documents = new[] { document } });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        }

        var partial = await Submit(5_000, "warranty");
        var rejected = await Submit(9_000, "goodwill");
        var approved = await Submit(1_000, "retro_rebate");

        // Bad input names the field; a dealer cannot decide; someone else's dealer id is forbidden.
        var bad = await dealerClient.PostAsJsonAsync("/api/v1/claims",
            new { kind = "warranty", amount = -5, currency = "INR", description = "x", documents = new[] { document } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await dealerClient.PostAsJsonAsync($"/api/v1/claims/{partial}/decision", new { decision = "approve" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dealerClient.PostAsJsonAsync("/api/v1/claims",
            new { dealerId = "D-SOMEONE", kind = "warranty", amount = 5, currency = "INR", description = "x", documents = new[] { document } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fixture.Finance.PostAsJsonAsync($"/api/v1/claims/{partial}/decision",
            new { decision = "partially_accept", acceptedAmount = 6_000, reasonCode = "amount_not_supported" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await fixture.Finance.PostAsJsonAsync($"/api/v1/claims/{partial}/decision",
            new { decision = "partially_accept", acceptedAmount = 3_000, reasonCode = "amount_not_supported", note = "labour capped" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Finance.PostAsJsonAsync($"/api/v1/claims/{rejected}/decision",
            new { decision = "reject", reasonCode = "insufficient_documents" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Finance.PostAsJsonAsync($"/api/v1/claims/{approved}/decision",
            new { decision = "approve" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await fixture.Finance.PostAsJsonAsync($"/api/v1/claims/{approved}/decision",
            new { decision = "reject", reasonCode = "other" })).StatusCode);

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var notes = await Generate(new { dealerId = dealer, periodFrom = today, periodTo = today });
        var note = Assert.Single(notes)!;
        Assert.Equal(3_000 + 1_000, note["total"]!.GetValue<long>());
        Assert.All(note["lines"]!.AsArray(), l => Assert.Equal("claim", l!["kind"]!.GetValue<string>()));
        Assert.Empty(await Generate(new { dealerId = dealer, periodFrom = today, periodTo = today }));

        var kpis = (await fixture.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/analytics/kpis?dealerId={dealer}"))!;
        Assert.Equal(3, kpis["claimsDecided"]!.GetValue<long>());
        Assert.Equal(1, kpis["claimsRejected"]!.GetValue<long>());
        Assert.Equal(1, kpis["claimsPartiallyAccepted"]!.GetValue<long>());
        Assert.Equal(3_333, kpis["claimRejectionRateBps"]!.GetValue<long>());
        Assert.Equal(1, kpis["rejectionReasons"]!["insufficient_documents"]!.GetValue<long>());
        Assert.Equal(1, kpis["rejectionReasons"]!["amount_not_supported"]!.GetValue<long>());
    }

    private async Task<JsonArray> Generate(object period)
    {
        var response = await fixture.Finance.PostAsJsonAsync("/api/v1/settlements/credit-notes", period);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonArray>())!;
    }
}
