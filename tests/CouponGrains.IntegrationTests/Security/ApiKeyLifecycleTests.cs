using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponGrains.Api.Auth;
using CouponGrains.Contracts.Access;
using CouponGrains.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Security;

[Collection(ApiCollection.Name)]
public sealed class ApiKeyLifecycleTests(ApiFixture api)
{
    [Fact]
    public async Task KeysAreListedWithoutTheirSecrets()
    {
        var (id, key) = await api.CreateKeyWithIdAsync(Roles.Dealer, "D-KEYS");
        var listed = new List<JsonObject>();
        string? after = null;
        do
        {
            var page = await api.Admin.GetFromJsonAsync<JsonObject>("/api/v1/api-keys?limit=50" + (after is null ? "" : $"&after={after}"));
            listed.AddRange(page!["items"]!.AsArray().Select(i => i!.AsObject()));
            after = page["next"]?.GetValue<string>();
        }
        while (after is not null);

        var mine = Assert.Single(listed, k => k["id"]!.GetValue<string>() == id);
        Assert.Equal("dealer", mine["role"]!.GetValue<string>());
        Assert.Equal("D-KEYS", mine["dealerId"]!.GetValue<string>());
        var all = string.Join("", listed.Select(k => k.ToJsonString()));
        Assert.DoesNotContain(key, all);
        Assert.DoesNotContain(ApiKeyStoreHash(key), all);
        Assert.DoesNotContain("\"key\"", all);
    }

    private static string ApiKeyStoreHash(string key) => CouponGrains.Grains.Storage.ApiKeyStore.Hash(key);

    [Fact]
    public async Task ARevokedKeyStopsWorkingAtOnce()
    {
        var (id, key) = await api.CreateKeyWithIdAsync(Roles.Marketing);
        var client = api.Client(key);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/dealers/D-ANY")).StatusCode);

        var revoked = await api.Admin.DeleteAsync($"/api/v1/api-keys/{id}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.NotNull((await revoked.Content.ReadFromJsonAsync<JsonObject>())!["revokedAt"]);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/dealers/D-ANY")).StatusCode);
        var again = await api.Admin.DeleteAsync($"/api/v1/api-keys/{id}");
        Assert.Equal((HttpStatusCode.Conflict, "api_key_revoked"), (again.StatusCode, await ApiFixture.CodeOf(again)));
        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin.DeleteAsync("/api/v1/api-keys/K-none")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.Admin.PostAsync($"/api/v1/api-keys/{id}/rotation", null)).StatusCode);
    }

    [Fact]
    public async Task ARotatedKeyHasANewSecretAndTheOldOneStops()
    {
        var (id, oldKey) = await api.CreateKeyWithIdAsync(Roles.Dealer, "D-ROT");
        var old = api.Client(oldKey);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await old.GetAsync("/api/v1/dealers/D-ROT")).StatusCode);

        var rotation = await api.Admin.PostAsync($"/api/v1/api-keys/{id}/rotation", null);
        Assert.Equal(HttpStatusCode.OK, rotation.StatusCode);
        var body = await rotation.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(id, body!["id"]!.GetValue<string>());
        var newKey = body["key"]!.GetValue<string>();
        Assert.NotEqual(oldKey, newKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("/api/v1/dealers/D-ROT")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await api.Client(newKey).GetAsync("/api/v1/dealers/D-ROT")).StatusCode);
    }

    [Fact]
    public async Task LastUseIsRecordedOffTheRequestPath()
    {
        var (id, key) = await api.CreateKeyWithIdAsync(Roles.Ops);
        Assert.Equal(0L, await TestPostgres.ScalarAsync<long>(api.ConnectionString,
            "SELECT count(*) FROM api_keys WHERE id = @id AND last_used_at IS NOT NULL", ("id", id)));
        await api.Client(key).GetAsync("/api/v1/audit?limit=1");

        await api.Services.GetRequiredService<ApiKeyUsageFlusher>().FlushAsync();
        // The touch is a one-way call: poll for its effect.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long recorded = 0;
        while (recorded == 0 && DateTime.UtcNow < deadline)
        {
            recorded = await TestPostgres.ScalarAsync<long>(api.ConnectionString,
                "SELECT count(*) FROM api_keys WHERE id = @id AND last_used_at IS NOT NULL", ("id", id));
            await Task.Delay(50);
        }

        Assert.Equal(1L, recorded);
        var listed = await api.Admin.GetFromJsonAsync<JsonObject>("/api/v1/api-keys?limit=500");
        Assert.Contains(listed!["items"]!.AsArray(), k => k!["id"]!.GetValue<string>() == id && k["lastUsedAt"] is not null);
    }
}
