using System.Security.Cryptography;
using CouponGrains.Grains.Audit;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>The chain's arithmetic must never change: rows sealed by any earlier version have to verify.</summary>
public sealed class AuditChainTests
{
    // Multi-byte UTF-8 in a short field, and a field whose UTF-8 form (1,400 bytes) outgrows the hash's stack buffer.
    private static readonly AuditRowContent s_row = new(42, new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1_234_560),
        "K-1", null, "redeemed", "redemption", "R-\u00fc\u20ac", null, new string('\u03a9', 700), null, null, "{\"a\": 1}");

    [Fact]
    public void HashOfARowIsPinned()
    {
        // Worked out independently of this code base: SHA-256 of 32 zero bytes, then the id and the time in
        // microseconds (big-endian int64s), then each field as 0, or 1 + big-endian int32 length + UTF-8.
        Assert.Equal("8ef48cfdf5157db4e1d59d7c10ec537a78cd4ce6c8d59bda69628e87608fe6dc",
            Convert.ToHexStringLower(AuditChain.Hash(AuditChain.Genesis, s_row)));
    }

    [Fact]
    public void HashIsShaOfThePreviousHashFollowedByTheCanonicalRow()
    {
        var previous = SHA256.HashData("previous"u8);
        var expected = SHA256.HashData([.. previous, .. AuditChain.Canonical(s_row)]);
        Assert.Equal(expected, AuditChain.Hash(previous, s_row));
        Assert.NotEqual(expected, AuditChain.Hash(AuditChain.Genesis, s_row));
    }
}
