using CouponGrains.IntegrationTests.Infrastructure;

namespace CouponGrains.IntegrationTests.Security;

/// <summary>Request bodies the security tests share.</summary>
internal static class SecurityData
{
    public static object Campaign(string name = "Security campaign", long budget = 10_000_000, object? discount = null,
        decimal? marginFloorPercent = null) =>
        ApiFixture.Definition(name: name, budget: budget, discount: discount, marginFloorPercent: marginFloorPercent);
}
