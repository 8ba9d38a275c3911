namespace CouponGrains.Contracts;

/// <summary>The meter the product's own instruments are on, whichever project records them.</summary>
public static class ProductMeter
{
    public const string Name = "CouponGrains";
}
