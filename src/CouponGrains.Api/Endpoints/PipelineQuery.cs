using System.Globalization;
using CouponGrains.Api.Http;
using CouponGrains.Contracts.Coupons;

namespace CouponGrains.Api.Endpoints;

/// <summary>Query-string helpers shared by the fraud, settlement, claims and analytics endpoints.</summary>
internal static class PipelineQuery
{
    public static string? Id(string? value, string field, List<FieldError> errors)
    {
        if (value is not null && !CodeFormat.IsValidId(value))
        {
            errors.Add(new(field, "must be 1-64 characters of letters, digits, '-', '_', '.', ':'."));
            return null;
        }

        return value;
    }

    public static string? OneOf(string? value, string field, string[] allowed, List<FieldError> errors)
    {
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            errors.Add(new(field, $"must be one of {string.Join(", ", allowed)}."));
            return null;
        }

        return value;
    }

    public static DateTimeOffset? Time(string? value, string field, List<FieldError> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        errors.Add(new(field, "must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z."));
        return null;
    }

    public static DateOnly? Date(string? value, string field, List<FieldError> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        errors.Add(new(field, "must be a date, yyyy-MM-dd."));
        return null;
    }

    public static int Limit(string? value, List<FieldError> errors, int max = 1000)
    {
        if (value is null)
        {
            return 100;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max)
        {
            return n;
        }

        errors.Add(new("limit", $"must be from 1 to {max}."));
        return 100;
    }
}
