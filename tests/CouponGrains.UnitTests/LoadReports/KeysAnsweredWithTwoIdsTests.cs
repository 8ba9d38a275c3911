using CouponGrains.LoadTests;
using Xunit;

namespace CouponGrains.UnitTests.LoadReports;

/// <summary>The load console's idempotency check: every 201 for one key must name the same redemption.</summary>
public sealed class KeysAnsweredWithTwoIdsTests
{
    [Fact]
    public void ResentKeysAnsweredWithTheirOneRedemptionAreNoViolation()
    {
        Acknowledged[] acked = [new("R-1", 0, 500, "k1"), new("R-1", 0, 500, "k1"), new("R-1", 0, 500, "k1"), new("R-2", 0, 500, "k2")];

        Assert.Equal((0L, 2L), Invariants.KeysAnsweredWithTwoIds(acked));
    }

    [Fact]
    public void AKeyAnsweredWithASecondRedemptionIsCountedOnceHoweverOftenItWasResent()
    {
        Acknowledged[] acked =
        [
            new("R-1", 0, 500, "k1"), new("R-9", 0, 500, "k1"), new("R-1", 0, 500, "k1"),
            new("R-2", 0, 500, "k2"),
            new("R-3", 0, 500, "k3"), new("R-4", 0, 500, "k3"),
        ];

        Assert.Equal((2L, 3L), Invariants.KeysAnsweredWithTwoIds(acked));
    }
}
