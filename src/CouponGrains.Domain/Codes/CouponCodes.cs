using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CouponGrains.Domain.Codes;

/// <summary>
/// Coupon code generation and normalisation. Generated codes look like <c>[PREFIX-]XXXX-XXXX-XXXX</c>:
/// twelve symbols from a 32-symbol alphabet without the look-alikes 0/O and 1/I, drawn from the
/// operating system's CSPRNG, for 60 bits of entropy per code.
/// </summary>
public static class CouponCodes
{
    /// <summary>The 32 symbols of generated codes: digits 2–9 and A–Z without I and O.</summary>
    public const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

    /// <summary>Random symbols per generated code.</summary>
    public const int RandomChars = 12;

    /// <summary>Entropy of a generated code: <see cref="RandomChars"/> × log2(32).</summary>
    public const int EntropyBits = 60;

    /// <summary>The longest code <see cref="Normalize"/> accepts.</summary>
    public const int MaxLength = 64;

    /// <summary>The longest prefix <see cref="IsValidPrefix"/> accepts.</summary>
    public const int MaxPrefixLength = 12;

    private const int GroupSize = 4;
    private const int BitsPerSymbol = 5;
    private const int SymbolMask = (1 << BitsPerSymbol) - 1;
    private const int BodyLength = RandomChars + RandomChars / GroupSize - 1; // XXXX-XXXX-XXXX
    private const int CodesPerFill = 256;

    /// <summary>
    /// Generates <paramref name="count"/> distinct codes, each <c>[PREFIX-]XXXX-XXXX-XXXX</c>. The prefix
    /// is upper-cased. Codes are unique within the batch; uniqueness across batches is the store's job
    /// (a collision there is a 2^-60 event per pair).
    /// </summary>
    /// <exception cref="ArgumentException">The prefix is not valid (see <see cref="IsValidPrefix"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static string[] Generate(string? prefix, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!IsValidPrefix(prefix))
        {
            throw new ArgumentException("A prefix is 1 to 12 letters or digits.", nameof(prefix));
        }

        var head = string.IsNullOrEmpty(prefix) ? "" : UpperAscii(prefix) + "-";
        var codes = new string[count];
        var seen = new HashSet<string>(count, StringComparer.Ordinal);

        // One 64-bit word per code supplies its 60 random bits (12 × 5); the top 4 bits are dropped.
        // Every bit of a CSPRNG word is uniform and independent, and 32 symbols are exactly 5 bits,
        // so there is no modulo bias. Words are fetched in blocks to keep RNG calls few.
        Span<byte> block = stackalloc byte[CodesPerFill * sizeof(ulong)];
        var used = CodesPerFill;
        var filled = 0;
        while (filled < count)
        {
            if (used == CodesPerFill)
            {
                RandomNumberGenerator.Fill(block);
                used = 0;
            }

            var word = BinaryPrimitives.ReadUInt64LittleEndian(block.Slice(used++ * sizeof(ulong), sizeof(ulong)));
            var code = Format(head, word);
            if (seen.Add(code))
            {
                codes[filled++] = code;
            }
        }

        return codes;
    }

    /// <summary>
    /// A code as typed by a person, in canonical form: trimmed and upper-cased. Null when it is empty,
    /// longer than <see cref="MaxLength"/>, or contains anything but ASCII letters, digits, '-' and '_'.
    /// Non-ASCII letters are refused before upper-casing, so e.g. a dotless 'ı' cannot turn into 'I'.
    /// </summary>
    public static string? Normalize(string? raw)
    {
        if (raw is null)
        {
            return null;
        }

        var trimmed = raw.Trim();
        if (trimmed.Length is 0 or > MaxLength)
        {
            return null;
        }

        var hasLower = false;
        foreach (var c in trimmed)
        {
            if (char.IsAsciiLetterLower(c))
            {
                hasLower = true;
            }
            else if (!char.IsAsciiLetterUpper(c) && !char.IsAsciiDigit(c) && c is not '-' and not '_')
            {
                return null;
            }
        }

        return hasLower ? UpperAscii(trimmed) : trimmed;
    }

    /// <summary>
    /// Whether <paramref name="prefix"/> may start generated codes: null or empty (no prefix), or 1 to
    /// <see cref="MaxPrefixLength"/> ASCII letters or digits, in either case.
    /// </summary>
    public static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return true;
        }

        if (prefix.Length > MaxPrefixLength)
        {
            return false;
        }

        foreach (var c in prefix)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Format(string head, ulong word) =>
        string.Create(head.Length + BodyLength, (head, word), static (span, state) =>
        {
            state.head.AsSpan().CopyTo(span);
            var body = span[state.head.Length..];
            var bits = state.word;
            var pos = 0;
            for (var i = 0; i < RandomChars; i++)
            {
                if (i > 0 && i % GroupSize == 0)
                {
                    body[pos++] = '-';
                }

                body[pos++] = Alphabet[(int)(bits & SymbolMask)];
                bits >>= BitsPerSymbol;
            }
        });

    private static string UpperAscii(string value) =>
        string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterLower(c) ? (char)(c - ('a' - 'A')) : c;
            }
        });
}
