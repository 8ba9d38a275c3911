namespace CouponGrains.Domain.Money;

/// <summary>
/// Integer money arithmetic on minor units. Percentages are decimals so that no binary floating
/// point ever touches an amount; every operation is checked and throws <see cref="OverflowException"/>
/// rather than wrapping.
/// </summary>
public static class MoneyMath
{
    /// <summary>
    /// <paramref name="percent"/> % of <paramref name="amount"/>, rounded down to a whole minor unit
    /// (floor), e.g. 10% of 1999 is 199.
    /// </summary>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static long PercentOf(long amount, decimal percent)
    {
        // amount × percent is exact in decimal for any realistic percent (a long has 19 digits, decimal
        // 28), and dividing by 100 only shifts the scale, so the floor is taken of the exact value.
        // Decimal arithmetic and the decimal → long conversion both throw on overflow.
        var exact = amount * percent / 100m;
        return (long)decimal.Floor(exact);
    }

    /// <summary><paramref name="v"/> limited to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <exception cref="ArgumentException"><paramref name="min"/> is greater than <paramref name="max"/>.</exception>
    public static long Clamp(long v, long min, long max)
    {
        if (min > max)
        {
            throw new ArgumentException($"The minimum {min} is greater than the maximum {max}.", nameof(min));
        }

        return v < min ? min : v > max ? max : v;
    }
}
