using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Discounts;
using Xunit;

namespace CouponGrains.UnitTests.Discounts;

public sealed class DiscountCalculatorTests
{
    private static DiscountDefinition Percent(decimal percent, long? max = null) =>
        new() { Type = DiscountTypes.Percent, Percent = percent, MaxAmount = max };

    private static DiscountDefinition Fixed(long amount) => new() { Type = DiscountTypes.Fixed, Amount = amount };

    private static DiscountDefinition Slabs(string? basis, params (long From, decimal Percent)[] slabs) => new()
    {
        Type = DiscountTypes.Slab,
        Basis = basis,
        Slabs = Array.ConvertAll(slabs, s => new Slab { From = s.From, Percent = s.Percent }),
    };

    [Fact]
    public void PercentDiscountRoundsDownToWholeMinorUnits()
    {
        Assert.Equal(199, DiscountCalculator.Compute(Percent(10m), 1999, 1));
        Assert.Equal(124, DiscountCalculator.Compute(Percent(12.5m), 999, 1));
    }

    [Fact]
    public void PercentDiscountIsCappedAtMaxAmount()
    {
        Assert.Equal(500, DiscountCalculator.Compute(Percent(10m, max: 500), 100_000, 1));
    }

    [Fact]
    public void PercentDiscountBelowMaxAmountIsNotCapped()
    {
        Assert.Equal(400, DiscountCalculator.Compute(Percent(10m, max: 500), 4_000, 1));
    }

    [Fact]
    public void FixedDiscountIsTheAmount()
    {
        Assert.Equal(300, DiscountCalculator.Compute(Fixed(300), 1_000, 1));
    }

    [Fact]
    public void FixedDiscountLargerThanTheEligibleValueIsClampedToIt()
    {
        Assert.Equal(750, DiscountCalculator.Compute(Fixed(5_000), 750, 1));
    }

    [Fact]
    public void NegativeFixedAmountGivesNoDiscountRatherThanASurcharge()
    {
        Assert.Equal(0, DiscountCalculator.Compute(Fixed(-100), 750, 1));
    }

    [Fact]
    public void OrderValueSlabAppliesExactlyAtItsLowerBound()
    {
        var d = Slabs(DiscountCalculator.OrderValueBasis, (10_000, 5m), (50_000, 10m));

        Assert.Equal(500, DiscountCalculator.Compute(d, 10_000, 1));
        Assert.Equal(2_499, DiscountCalculator.Compute(d, 49_999, 1));
        Assert.Equal(5_000, DiscountCalculator.Compute(d, 50_000, 1));
    }

    [Fact]
    public void SlabsAreMatchedWhateverTheirOrder()
    {
        var d = Slabs(null, (50_000, 10m), (10_000, 5m), (20_000, 7m));

        Assert.Equal(1_750, DiscountCalculator.Compute(d, 25_000, 1));
    }

    [Fact]
    public void QuantitySlabIsReachedByQuantityButPaysAPercentOfValue()
    {
        var d = Slabs(DiscountCalculator.QuantityBasis, (10, 5m), (100, 8m));

        Assert.Equal(0, DiscountCalculator.Compute(d, 1_000_000, 9));
        Assert.Equal(50_000, DiscountCalculator.Compute(d, 1_000_000, 10));
        Assert.Equal(80_000, DiscountCalculator.Compute(d, 1_000_000, 100));
    }

    [Fact]
    public void NoSlabReachedGivesZero()
    {
        var d = Slabs(DiscountCalculator.OrderValueBasis, (10_000, 5m));

        Assert.Equal(0, DiscountCalculator.Compute(d, 9_999, 50));
    }

    [Fact]
    public void SlabDiscountIsCappedAtMaxAmount()
    {
        var d = Slabs(DiscountCalculator.OrderValueBasis, (0, 10m)) with { MaxAmount = 100 };

        Assert.Equal(100, DiscountCalculator.Compute(d, 10_000, 1));
    }

    [Fact]
    public void UnknownDiscountTypeThrows()
    {
        Assert.Throws<ArgumentException>(() =>
            DiscountCalculator.Compute(new DiscountDefinition { Type = "bogo" }, 1_000, 1));
    }

    [Fact]
    public void UnknownSlabBasisThrows()
    {
        Assert.Throws<ArgumentException>(() => DiscountCalculator.Compute(Slabs("weight", (0, 5m)), 1_000, 1));
    }

    [Fact]
    public void NothingEligibleGivesNoDiscount()
    {
        Assert.Equal(0, DiscountCalculator.Compute(Fixed(300), 0, 0));
        Assert.Equal(0, DiscountCalculator.Compute(Percent(10m), 0, 0));
    }

    [Fact]
    public void DiscountIsNeverNegativeNorAboveTheEligibleValue()
    {
        var random = new Random(20261130);
        for (var i = 0; i < 20_000; i++)
        {
            var value = random.NextInt64(0, 10_000_000_000);
            var quantity = random.NextInt64(0, 10_000);
            var d = (i % 3) switch
            {
                0 => Percent(random.Next(-50, 300) + random.Next(0, 100) / 100m,
                    random.Next(2) == 0 ? null : random.NextInt64(-1_000, 10_000_000)),
                1 => Fixed(random.NextInt64(-1_000_000, 20_000_000_000)),
                _ => Slabs(random.Next(2) == 0 ? DiscountCalculator.OrderValueBasis : DiscountCalculator.QuantityBasis,
                    (random.NextInt64(0, 5_000_000_000), random.Next(-10, 250)),
                    (random.NextInt64(0, 5_000), random.Next(0, 150))),
            };

            var discount = DiscountCalculator.Compute(d, value, quantity);

            Assert.InRange(discount, 0, value);
        }
    }
}
