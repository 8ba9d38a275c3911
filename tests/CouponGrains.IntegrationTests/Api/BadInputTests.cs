using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Api;

[Collection(ApiCollection.Name)]
public sealed class BadInputTests(ApiFixture api)
{
    private const string Line = """{"sku":"BP-220","category":"brakes","quantity":4,"unitPrice":185000,"unitCost":131000}""";

    private static string Order(string code = "\"CODE1\"", string lines = $"[{Line}]", string dealer = "\"D-BAD\"") =>
        $$"""{"code":{{code}},"dealerId":{{dealer}},"orderId":"SO-1","lines":{{lines}}}""";

    public static TheoryData<string, string> BadOrders => new()
    {
        { "{ not json", "body" },
        { Order(code: "\"AB\\u0001CD\""), "code" },
        { Order(code: "null"), "code" },
        { Order(code: "42"), "code" },
        { Order(dealer: "null"), "dealerId" },
        { Order(lines: "[]"), "lines" },
        { Order(lines: """[{"sku":"BP-220","quantity":-1,"unitPrice":100}]"""), "lines[0].quantity" },
        { Order(lines: """[{"sku":"BP-220","quantity":0,"unitPrice":100}]"""), "lines[0].quantity" },
        { Order(lines: """[{"sku":"BP-220","quantity":99999999999,"unitPrice":100}]"""), "lines[0].quantity" },
        { Order(lines: """[{"sku":"BP-220","quantity":1,"unitPrice":-5}]"""), "lines[0].unitPrice" },
        { Order(lines: """[{"sku":"BP-220","quantity":1,"unitPrice":99999999999999999999999}]"""), "lines[0].unitPrice" },
        { Order(lines: """[{"sku":"BP-220","quantity":"four","unitPrice":100}]"""), "lines[0].quantity" },
        { Order(lines: """[{"quantity":1,"unitPrice":100}]"""), "lines[0].sku" },
    };

    [Theory]
    [MemberData(nameof(BadOrders))]
    public async Task ABadRedemptionIsA400NamingTheField(string body, string field)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/redemptions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));

        var response = await api.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(field, problem!["field"]!.GetValue<string>());
        Assert.Equal("invalid_request", problem["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task AMegabyteBodyIs413AndTheServiceKeepsServing()
    {
        var huge = "{\"code\":\"" + new string('A', 1024 * 1024) + "\"}";
        var response = await api.Admin.PostAsync("/api/v1/validations", new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("payload_too_large", await ApiFixture.CodeOf(response));
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task AnUnknownCurrencyOrTimeZoneIsRefusedAndNothingIsCreated()
    {
        var response = await api.Admin.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "Bad", kind = "dealer_promo", currency = "XYZ", budget = 1000, validFrom = "2026-11-01T00:00:00",
            validUntil = "2026-11-30T23:59:59", timeZone = "Mars/Olympus", discount = new { type = "fixed", amount = 10 },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("currency", problem!["field"]!.GetValue<string>());
        Assert.NotNull(problem["errors"]!["timeZone"]);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM OrleansStorage WHERE position(convert_to('Mars/Olympus', 'UTF8') in payloadbinary) > 0"));
    }

    [Fact]
    public async Task UnknownFieldsHaveNoEffect()
    {
        await api.PutDealerAsync("D-MASS");
        var campaign = await api.CreateActiveCampaignAsync();
        var code = await api.NamedCodeAsync(campaign);
        var body = $$"""
            {"code":"{{code}}","dealerId":"D-MASS","orderId":"SO-MASS","discount":99999999,"status":"reversed",
             "lines":[{{Line}}]}
            """;
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/redemptions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));

        var response = await api.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var redemption = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(1000, redemption!["discount"]!.GetValue<long>());
        Assert.Equal("committed", redemption["status"]!.GetValue<string>());
    }
}
