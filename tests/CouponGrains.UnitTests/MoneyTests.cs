using CouponGrains.Contracts;
using CouponGrains.Domain.Money;
using Xunit;

namespace CouponGrains.UnitTests;

public sealed class MoneyTests
{
    [Fact]
    public void AddingAmountsOfTheSameCurrencySumsThem()
    {
        var sum = new Money(150, "INR").Add(new Money(250, "INR"));

        Assert.Equal(new Money(400, "INR"), sum);
    }

    [Fact]
    public void AddThrowsOnOverflowInsteadOfWrapping()
    {
        var max = new Money(long.MaxValue, "INR");

        Assert.Throws<OverflowException>(() => max.Add(new Money(1, "INR")));
    }

    [Fact]
    public void SubtractThrowsOnOverflowInsteadOfWrapping()
    {
        var min = new Money(long.MinValue, "INR");

        Assert.Throws<OverflowException>(() => min.Subtract(new Money(1, "INR")));
    }

    [Fact]
    public void SubtractCanGoNegativeAndSaysSo()
    {
        var result = new Money(100, "USD").Subtract(new Money(101, "USD"));

        Assert.Equal(-1, result.Minor);
        Assert.True(result.IsNegative);
    }

    [Fact]
    public void AddingDifferentCurrenciesThrows()
    {
        Assert.Throws<InvalidOperationException>(() => new Money(1, "INR").Add(new Money(1, "USD")));
    }

    [Fact]
    public void SubtractingDifferentCurrenciesThrows()
    {
        Assert.Throws<InvalidOperationException>(() => new Money(1, "INR").Subtract(new Money(1, "EUR")));
    }

    [Theory]
    [InlineData("INR", true)]
    [InlineData("USD", true)]
    [InlineData("XYZ", false)]
    [InlineData("inr", false)]
    [InlineData(null, false)]
    public void CurrenciesKnowsTheAcceptedCodes(string? code, bool known)
    {
        Assert.Equal(known, Currencies.IsKnown(code));
    }

    [Fact]
    public void PercentOfRoundsDown()
    {
        Assert.Equal(199, MoneyMath.PercentOf(1999, 10m));
        Assert.Equal(333, MoneyMath.PercentOf(1000, 33.3399m));
    }

    [Fact]
    public void PercentOfThrowsOnOverflow()
    {
        Assert.Throws<OverflowException>(() => MoneyMath.PercentOf(long.MaxValue, 200m));
    }

    [Theory]
    [InlineData(-5, 0, 10, 0)]
    [InlineData(5, 0, 10, 5)]
    [InlineData(15, 0, 10, 10)]
    public void ClampKeepsTheValueWithinTheBounds(long value, long min, long max, long expected)
    {
        Assert.Equal(expected, MoneyMath.Clamp(value, min, max));
    }

    [Fact]
    public void ClampRejectsAMinimumAboveTheMaximum()
    {
        Assert.Throws<ArgumentException>(() => MoneyMath.Clamp(1, 10, 0));
    }
}
