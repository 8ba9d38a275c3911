using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Rules;
using Xunit;

namespace CouponGrains.UnitTests.Rules;

public sealed class CouponRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ACodeBoundToAnotherDealerIsRefusedAndAnUnboundOneIsNot()
    {
        Assert.Equal(RejectionCode.DealerMismatch, CouponRules.DealerRefusal("D-1", "D-2")?.Code);
        Assert.Null(CouponRules.DealerRefusal("D-1", "D-1"));
        Assert.Null(CouponRules.DealerRefusal(null, "D-2"));
    }

    [Fact]
    public void ACodeExpiresAtItsExpiryInstant()
    {
        Assert.Null(CouponRules.ExpiryRefusal(Now.AddTicks(1), Now));
        Assert.Equal(RejectionCode.Expired, CouponRules.ExpiryRefusal(Now, Now)?.Code);
        Assert.Null(CouponRules.ExpiryRefusal(null, Now));
    }

    [Fact]
    public void TheDealerBindingIsReportedBeforeExpiry()
    {
        Assert.Equal(RejectionCode.DealerMismatch, CouponRules.FirstRefusal("D-1", Now.AddDays(-1), "D-2", Now)?.Code);
        Assert.Equal(RejectionCode.Expired, CouponRules.FirstRefusal("D-1", Now.AddDays(-1), "D-1", Now)?.Code);
        Assert.Null(CouponRules.FirstRefusal(null, null, "D-1", Now));
    }
}
