using CouponGrains.Contracts.Campaigns;

namespace CouponGrains.UnitTests;

/// <summary>Campaign definitions for the domain tests: November 2026 in Asia/Kolkata unless changed with <c>with</c>.</summary>
internal static class TestCampaigns
{
    public static CampaignDefinition Definition(string kind, DiscountDefinition discount) => new()
    {
        Name = kind,
        Kind = kind,
        Currency = "INR",
        Budget = 100_000_000,
        ValidFrom = new DateTime(2026, 11, 1),
        ValidUntil = new DateTime(2026, 11, 30, 23, 59, 59),
        TimeZone = "Asia/Kolkata",
        Discount = discount,
    };

    public static DiscountDefinition Percent(decimal percent) => new() { Type = DiscountTypes.Percent, Percent = percent };

    public static DiscountDefinition Fixed(long amount) => new() { Type = DiscountTypes.Fixed, Amount = amount };
}
