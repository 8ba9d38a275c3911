using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>
/// One silo with the API co-hosted, on its own fresh database, shared by the API tests. Each test
/// makes its own campaigns, dealers and keys, so tests never see each other's counters.
/// </summary>
public class ApiFixture : IAsyncLifetime
{
    public const string AdminKey = "cg_test_bootstrap_admin_key_0123456789abcdef";

    /// <summary>Campaigns above this budget need a second approver in the tests' silo.</summary>
    public const long SecondApproverAbove = 1_000_000_000;

    /// <summary>The silo reads its settings from the environment while its Program runs, before any
    /// WebApplicationFactory override applies: fixtures that start silos take turns.</summary>
    private static readonly SemaphoreSlim s_startGate = new(1, 1);

    private WebApplicationFactory<Program>? _factory;

    public string ConnectionString { get; private set; } = "";

    public HttpClient Admin { get; private set; } = null!;

    /// <summary>A finance key's client: the default approver of <see cref="CreateActiveCampaignAsync"/>
    /// (nobody approves a campaign they created).</summary>
    public HttpClient Finance { get; private set; } = null!;

    /// <summary>The silo's services, for tests that drive grains or stores directly.</summary>
    public IServiceProvider Services => _factory!.Services;

    /// <summary>The environment the silo starts with; a derived fixture changes what it tests.</summary>
    protected virtual void Configure(IDictionary<string, string?> settings)
    {
    }

    /// <summary>Services the silo starts with besides its own; a derived fixture adds test seams.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>Creates the silo's database and returns its connection string; a derived fixture connects otherwise.</summary>
    protected virtual Task<string> CreateDatabaseAsync() => TestPostgres.CreateDatabaseAsync("cg_api");

    public async Task InitializeAsync()
    {
        ConnectionString = await CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = ConnectionString,
            ["Api__BootstrapAdminKey"] = AdminKey,
            ["Api__DealerRequestsPerSecond"] = "100000",
            ["Api__DealerBurst"] = "100000",
            // The shared admin key sends unknown codes in many tests; one more test must not push it over the
            // limit. The limiter is tested on a fixture of its own (AbuseTests).
            ["Abuse__FailedCodeLimit"] = "100000",
            ["Approvals__SecondApproverAbove"] = SecondApproverAbove.ToString(),
            ["Orleans__SiloPort"] = TestPostgres.FreePort().ToString(),
            ["Orleans__GatewayPort"] = TestPostgres.FreePort().ToString(),
            ["Orleans__ClusterId"] = "api-tests-" + Guid.NewGuid().ToString("N")[..8],
        };
        Configure(settings);
        await s_startGate.WaitAsync();
        try
        {
            foreach (var (name, value) in settings)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureTestServices(ConfigureServices));
            Admin = Client(AdminKey);
            var ready = await Admin.GetAsync("/health/ready");
            ready.EnsureSuccessStatusCode();
        }
        finally
        {
            s_startGate.Release();
        }

        Finance = Client(await CreateKeyAsync("finance"));
    }

    public HttpClient Client(string? apiKey)
    {
        var client = _factory!.CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    public async Task<string> CreateKeyAsync(string role, string? dealerId = null) => (await CreateKeyWithIdAsync(role, dealerId)).Key;

    /// <summary>Creates a key and returns its id with its secret.</summary>
    public async Task<(string Id, string Key)> CreateKeyWithIdAsync(string role, string? dealerId = null)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = $"{role} key", role, dealerId });
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (body["id"]!.GetValue<string>(), body["key"]!.GetValue<string>());
    }

    public async Task PutDealerAsync(string dealerId, string tier = "dealer", string region = "west", params string[] branches)
    {
        var response = await Admin.PutAsJsonAsync($"/api/v1/dealers/{dealerId}", new
        {
            name = $"Dealer {dealerId}",
            region,
            channelTier = tier,
            tags = Array.Empty<string>(),
            branches = branches.Select(b => new { id = b, name = $"Branch {b}", region }).ToArray(),
        });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A campaign definition valid from two days ago for thirty days, in Asia/Kolkata.</summary>
    public static object Definition(string name = "Test campaign", long budget = 100_000_000, object? discount = null,
        object? eligibility = null, object? caps = null, decimal? marginFloorPercent = null) => new
    {
        name,
        kind = "dealer_promo",
        currency = "INR",
        budget,
        validFrom = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ss"),
        validUntil = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ss"),
        timeZone = "Asia/Kolkata",
        discount = discount ?? new { type = "fixed", amount = 1000 },
        eligibility = eligibility ?? new { },
        caps = caps ?? new { },
        marginFloorPercent,
    };

    /// <summary>Creates, submits and approves a campaign; returns its id.</summary>
    public async Task<string> CreateActiveCampaignAsync(object? caps = null, long budget = 100_000_000, object? discount = null,
        object? eligibility = null, bool activate = true)
    {
        var definition = Definition(budget: budget, discount: discount, eligibility: eligibility, caps: caps);
        return await CreateCampaignAsync(definition, activate);
    }

    /// <summary>Creates a campaign from any definition, then submits it and has finance approve it unless told not to.</summary>
    public async Task<string> CreateCampaignAsync(object definition, bool activate = true)
    {
        var created = await Admin.PostAsJsonAsync("/api/v1/campaigns", definition);
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        if (activate)
        {
            (await Admin.PostAsync($"/api/v1/campaigns/{id}/submit", null)).EnsureSuccessStatusCode();
            (await Finance.PostAsync($"/api/v1/campaigns/{id}/approve", null)).EnsureSuccessStatusCode();
        }

        return id;
    }

    public async Task<string> NamedCodeAsync(string campaignId, int? maxUses = null, string? dealerId = null)
    {
        var code = "T" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        var response = await Admin.PostAsJsonAsync($"/api/v1/campaigns/{campaignId}/coupons", new { code, maxUses, dealerId });
        response.EnsureSuccessStatusCode();
        return code;
    }

    public async Task<JsonObject> CampaignAsync(string id) =>
        (await Admin.GetFromJsonAsync<JsonObject>($"/api/v1/campaigns/{id}"))!;

    public static object Order(string code, string dealerId, string? branchId = null, string? customerId = null,
        string? orderId = null, long unitPrice = 185_000, long quantity = 4) => new
    {
        code,
        dealerId,
        branchId,
        orderId = orderId ?? "SO-" + Guid.NewGuid().ToString("N")[..10],
        region = "west",
        customer = new { id = customerId, tags = new[] { "fleet" } },
        lines = new[] { new { sku = "BP-220", category = "brakes", quantity, unitPrice, unitCost = 131_000L } },
    };

    public static HttpRequestMessage Redeem(object order, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/redemptions") { Content = JsonContent.Create(order) };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString("N"));
        return request;
    }

    public static async Task<string?> CodeOf(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrEmpty(body) || response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) != true)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
    }

    /// <summary>The answers by status and problem code ("201 × 15, 409 branch_quota_reached × 285"), for failure messages.</summary>
    public static async Task<string> TallyAsync(IEnumerable<HttpResponseMessage> responses)
    {
        var answers = new List<string>();
        foreach (var r in responses)
        {
            answers.Add($"{(int)r.StatusCode} {await CodeOf(r)}".TrimEnd());
        }

        return string.Join(", ", answers.CountBy(a => a).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} × {a.Value}"));
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}

internal static class BasicAuth
{
    public static AuthenticationHeaderValue For(string key) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ops:" + key)));
}
