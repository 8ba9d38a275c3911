using System.Text.Json;
using System.Text.Json.Serialization;

namespace CouponGrains.Grains.Audit;

/// <summary>How entities are written into an audit row's before/after: the API's JSON shape (camelCase, snake_case enums).</summary>
public static class AuditJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string? Of<T>(T? value) => value is null ? null : JsonSerializer.Serialize(value, s_options);
}
