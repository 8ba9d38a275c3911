using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Contracts.Events;
using CouponGrains.Grains.Fraud;
using CouponGrains.IntegrationTests.Infrastructure;
using CouponGrains.IntegrationTests.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>Request bodies the security tests share, and the objects of one dealer they act on.</summary>
internal static class SecurityData
{
    public static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd");

    public static object Campaign(string name = "Security campaign", long budget = 10_000_000, object? discount = null,
        decimal? marginFloorPercent = null) =>
        ApiFixture.Definition(name: name, budget: budget, discount: discount, marginFloorPercent: marginFloorPercent);

    /// <summary>A retro-rebate campaign: 1% of a dealer's purchases, 2% from 100,000.</summary>
    public static object RetroRebateCampaign() => new
    {
        name = "Security retro rebate",
        kind = "retro_rebate",
        currency = "INR",
        budget = 10_000_000L,
        validFrom = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ss"),
        validUntil = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ss"),
        timeZone = "Asia/Kolkata",
        discount = new { type = "slab", basis = "order_value", slabs = new object[] { new { from = 0, percent = 1 }, new { from = 100_000, percent = 2 } } },
    };

    /// <summary>A warranty claim; without a dealer id a dealer key claims for its own dealer.</summary>
    public static object Claim(string? dealerId = null, long amount = 5_000) => new
    {
        dealerId,
        kind = "warranty",
        amount,
        currency = "INR",
        description = "Warranty job card 17",
        documents = new[] { new { uri = "https://docs.example.com/claims/17.pdf", sha256 = new string('a', 64) } },
    };

    public static object CreditNoteRun(string dealerId) => new { dealerId, periodFrom = Today, periodTo = Today };

    public static async Task<string> IdOf(HttpResponseMessage response)
    {
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    /// <summary>A redemption of a fresh code bound to the dealer, made by <paramref name="client"/>.</summary>
    public static async Task<string> RedemptionAsync(ApiFixture api, HttpClient client, string campaignId, string dealerId) =>
        await IdOf(await client.SendAsync(ApiFixture.Redeem(ApiFixture.Order(await api.NamedCodeAsync(campaignId, dealerId: dealerId), dealerId))));

    public static async Task<string> ClaimAsync(HttpClient client, string dealerId) =>
        await IdOf(await client.PostAsJsonAsync("/api/v1/claims", Claim(dealerId)));

    /// <summary>An approved claim of the dealer, credited by finance: the dealer's one new credit note.</summary>
    public static async Task<string> CreditNoteAsync(ApiFixture api, string dealerId)
    {
        var claim = await ClaimAsync(api.Admin, dealerId);
        (await api.Finance.PostAsJsonAsync($"/api/v1/claims/{claim}/decision", new { decision = "approve" })).EnsureSuccessStatusCode();
        var generated = await api.Finance.PostAsJsonAsync("/api/v1/settlements/credit-notes", CreditNoteRun(dealerId));
        generated.EnsureSuccessStatusCode();
        var notes = (await generated.Content.ReadFromJsonAsync<JsonArray>())!;
        return Assert.Single(notes)!["id"]!.GetValue<string>();
    }

    /// <summary>An open duplicate-order flag on the dealer: two redemptions of one order, as the pipeline would deliver them.</summary>
    public static async Task<string> FraudFlagAsync(ApiFixture api, string dealerId)
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        RedemptionEvent Committed(int i) => new()
        {
            EventId = $"R-{tag}-{i}:committed",
            RedemptionId = $"R-{tag}-{i}",
            Type = RedemptionEventType.Committed,
            CampaignId = "C-" + tag,
            DealerId = dealerId,
            OrderId = "SO-" + tag,
            Code = $"CODE-{tag}-{i}",
            Currency = "INR",
            Discount = 100,
            Amount = 100,
            RedeemedAt = DateTimeOffset.UtcNow,
        };
        await api.Services.GetRequiredService<FraudStore>().ApplyRedeemedAsync(api.ConnectionString, [Committed(0), Committed(1)]);
        var flags = await api.Admin.GetFromJsonAsync<JsonArray>($"/api/v1/fraud/flags?type=duplicate_order&campaignId=C-{tag}");
        return Assert.Single(flags!)!["id"]!.ToString();
    }
}
