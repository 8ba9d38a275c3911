using CouponGrains.Domain.Discounts;
using Xunit;

namespace CouponGrains.UnitTests.Discounts;

public sealed class PartialReturnsTests
{
    [Fact]
    public void PartialReturnsRoundDownAndTheLastReturnRestoresTheRemainder()
    {
        // 1,000 off a line of 3 units: returning one unit at a time restores 333, 333, then 334.
        var first = PartialReturns.Restore([new ReturnLine(1_000, 3, 0, 1)]);
        var second = PartialReturns.Restore([new ReturnLine(1_000, 3, 1, 1)]);
        var last = PartialReturns.Restore([new ReturnLine(1_000, 3, 2, 1)]);

        Assert.Equal(333, first.Total);
        Assert.Equal(333, second.Total);
        Assert.Equal(334, last.Total);
        Assert.False(first.CompletesReversal);
        Assert.False(second.CompletesReversal);
        Assert.True(last.CompletesReversal);
    }

    [Fact]
    public void OnlyTheReturnOfEveryLineCompletesTheReversal()
    {
        var result = PartialReturns.Restore([new ReturnLine(500, 2, 0, 2), new ReturnLine(300, 3, 0, 1)]);

        Assert.Equal([500, 100], result.LineRestores);
        Assert.Equal(600, result.Total);
        Assert.False(result.CompletesReversal);
    }

    [Fact]
    public void ReturningMoreThanWasBoughtIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PartialReturns.Restore([new ReturnLine(500, 2, 1, 2)]));
    }
}
