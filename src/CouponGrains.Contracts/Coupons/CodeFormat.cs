namespace CouponGrains.Contracts.Coupons;

/// <summary>What a coupon code and an external id may look like on the wire.</summary>
public static class CodeFormat
{
    public const int MaxCodeLength = 64;
    public const int MaxIdLength = 64;

    /// <summary>Trims and upper-cases a code; null when empty, too long, or not of [A-Z0-9-_].</summary>
    public static string? NormalizeCode(string? raw)
    {
        var code = raw?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(code) || code.Length > MaxCodeLength)
        {
            return null;
        }

        foreach (var c in code)
        {
            if (!(c is >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_'))
            {
                return null;
            }
        }

        return code;
    }

    /// <summary>Ids (dealers, branches, customers, orders) are 1–64 of [A-Za-z0-9-_.:]; '/' is reserved for grain keys.</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Free text (names, tags, reasons): no control characters, bounded length.</summary>
    public static bool IsValidText(string? text, int maxLength) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= maxLength && !text.Any(char.IsControl);
}
