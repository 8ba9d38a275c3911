using System.Text.RegularExpressions;
using CouponGrains.Domain.Codes;
using Xunit;

namespace CouponGrains.UnitTests.Codes;

public sealed class CouponCodesTests
{
    private static readonly Regex s_pattern = new(
        "^(PFX-)?[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$", RegexOptions.CultureInvariant);

    // One large batch shared by the tests below; generating it is the expensive part.
    private static readonly Lazy<string[]> s_batch = new(() => CouponCodes.Generate(null, 100_000));

    [Fact]
    public void HundredThousandGeneratedCodesAreAllUnique()
    {
        var codes = s_batch.Value;

        Assert.Equal(100_000, codes.Length);
        Assert.Equal(codes.Length, new HashSet<string>(codes, StringComparer.Ordinal).Count);
    }

    [Fact]
    public void GeneratedCodesMatchTheGroupedPattern()
    {
        foreach (var code in s_batch.Value)
        {
            Assert.Matches(s_pattern, code);
        }
    }

    [Fact]
    public void GeneratedCodesUseOnlyTheAlphabet()
    {
        foreach (var code in s_batch.Value)
        {
            foreach (var c in code.Replace("-", "", StringComparison.Ordinal))
            {
                Assert.Contains(c, CouponCodes.Alphabet);
            }
        }
    }

    [Fact]
    public void EverySymbolAppearsWithinFivePercentOfTheMean()
    {
        var counts = new Dictionary<char, int>();
        var total = 0;
        foreach (var code in s_batch.Value)
        {
            foreach (var c in code)
            {
                if (c == '-')
                {
                    continue;
                }

                counts[c] = counts.GetValueOrDefault(c) + 1;
                total++;
            }
        }

        Assert.Equal(1_200_000, total);
        Assert.Equal(CouponCodes.Alphabet.Length, counts.Count);
        var mean = (double)total / CouponCodes.Alphabet.Length;
        foreach (var symbol in CouponCodes.Alphabet)
        {
            Assert.InRange(counts[symbol], mean * 0.95, mean * 1.05);
        }
    }

    [Fact]
    public void AdjacentSymbolsAreIndependent()
    {
        // Each symbol must draw on its own 5 bits: if neighbours shared bits, some of the 1 024
        // symbol pairs could never occur. Mean ≈ 1 074 per pair, so ±25 % is about 8 standard deviations.
        var counts = new int[32 * 32];
        var pairs = 0;
        foreach (var code in s_batch.Value)
        {
            var symbols = code.Replace("-", "", StringComparison.Ordinal);
            for (var i = 1; i < symbols.Length; i++)
            {
                counts[CouponCodes.Alphabet.IndexOf(symbols[i - 1]) * 32 + CouponCodes.Alphabet.IndexOf(symbols[i])]++;
                pairs++;
            }
        }

        var mean = (double)pairs / counts.Length;
        Assert.All(counts, count => Assert.InRange(count, mean * 0.75, mean * 1.25));
    }

    [Fact]
    public void AlphabetHasThirtyTwoDistinctSymbolsWithoutLookAlikes()
    {
        Assert.Equal(32, CouponCodes.Alphabet.Length);
        Assert.Equal(32, CouponCodes.Alphabet.Distinct().Count());
        Assert.DoesNotContain('0', CouponCodes.Alphabet);
        Assert.DoesNotContain('O', CouponCodes.Alphabet);
        Assert.DoesNotContain('1', CouponCodes.Alphabet);
        Assert.DoesNotContain('I', CouponCodes.Alphabet);
    }

    [Fact]
    public void EntropyIsTheRandomSymbolsTimesBitsPerSymbolAndAtLeastSixtyBits()
    {
        var bits = CouponCodes.RandomChars * Math.Log2(CouponCodes.Alphabet.Length);

        Assert.Equal(CouponCodes.EntropyBits, bits);
        Assert.True(CouponCodes.EntropyBits >= 60);
    }

    [Fact]
    public void PrefixIsUpperCasedAndSeparatedByADash()
    {
        var codes = CouponCodes.Generate("pfx", 1_000);

        Assert.Equal(1_000, codes.Length);
        Assert.All(codes, code => Assert.Matches(s_pattern, code));
        Assert.All(codes, code => Assert.StartsWith("PFX-", code, StringComparison.Ordinal));
    }

    [Fact]
    public void GeneratedCodesSurviveNormalizationUnchanged()
    {
        foreach (var code in CouponCodes.Generate("DLR42", 100))
        {
            Assert.Equal(code, CouponCodes.Normalize(code));
        }
    }

    [Fact]
    public void GeneratingZeroCodesGivesAnEmptyBatch()
    {
        Assert.Empty(CouponCodes.Generate(null, 0));
    }

    [Fact]
    public void GenerateRejectsAnInvalidPrefixOrANegativeCount()
    {
        Assert.Throws<ArgumentException>(() => CouponCodes.Generate("BAD-PREFIX", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CouponCodes.Generate(null, -1));
    }

    [Theory]
    [InlineData("AB\u0001C")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("ABC DEF")]
    [InlineData("ABC/DEF")]
    [InlineData("\u0131ABC")]
    [InlineData("ÄBC")]
    public void NormalizeRejectsAnythingButLettersDigitsDashesAndUnderscores(string? raw)
    {
        Assert.Null(CouponCodes.Normalize(raw));
    }

    [Fact]
    public void NormalizeRejectsCodesLongerThanSixtyFourCharacters()
    {
        Assert.Equal(new string('A', 64), CouponCodes.Normalize(new string('A', 64)));
        Assert.Null(CouponCodes.Normalize(new string('A', 65)));
    }

    [Fact]
    public void NormalizeTrimsAndUpperCases()
    {
        Assert.Equal("DLR-ABCD", CouponCodes.Normalize(" dlr-abcd "));
        Assert.Equal("SUMMER_2026", CouponCodes.Normalize("\tSummer_2026\n"));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("DLR", true)]
    [InlineData("dlr42", true)]
    [InlineData("ABCDEFGHIJKL", true)]
    [InlineData("ABCDEFGHIJKLM", false)]
    [InlineData("DL-R", false)]
    [InlineData("DL R", false)]
    [InlineData("DLR_", false)]
    public void IsValidPrefixAcceptsOneToTwelveLettersOrDigits(string? prefix, bool valid)
    {
        Assert.Equal(valid, CouponCodes.IsValidPrefix(prefix));
    }
}
