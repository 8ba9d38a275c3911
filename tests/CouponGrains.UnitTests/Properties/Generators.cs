using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using FsCheck;
using FsCheck.Fluent;
using CouponGrains.Domain.Discounts;

namespace CouponGrains.UnitTests.Properties;

/// <summary>Random orders and campaigns of every kind for the property tests.</summary>
internal static class Generators
{
    public static readonly DateTimeOffset Now = new(2026, 11, 15, 6, 30, 0, TimeSpan.Zero);

    private static readonly string[] s_skus = ["BP-220", "OF-11", "SP-9", "CL-4", "AF-7", "LAB-SVC"];

    public static Gen<long> Amount(int max) => Gen.Choose(0, max).Select(v => (long)v);

    public static Gen<OrderLine> Line =>
        from sku in Gen.Elements(s_skus)
        from category in Gen.Elements("brakes", "filters", "engine", null)
        from quantity in Gen.Choose(0, 40)
        from unitPrice in Amount(2_000_000)
        from costPercent in Gen.Choose(0, 130)
        from costed in Gen.Elements(true, true, false)
        from labour in Gen.Elements(false, false, false, true)
        select new OrderLine
        {
            Sku = sku,
            Category = category,
            Quantity = quantity,
            UnitPrice = unitPrice,
            UnitCost = costed ? unitPrice * costPercent / 100 : null,
            Kind = labour ? OrderLineKinds.Labour : OrderLineKinds.Part,
            LabourCode = labour ? "LAB-" + sku : null,
        };

    public static Gen<OrderContext> Order =>
        from count in Gen.Choose(1, 20)
        from lines in Gen.ArrayOf(Line, count)
        from serial in Gen.Elements("SN-1", "SN-2", null)
        from complaint in Gen.Elements("CMP-77", null)
        select new OrderContext
        {
            Code = "CODE-1",
            DealerId = "D-1",
            BranchId = "D-1-B",
            Lines = lines,
            SerialNumber = serial,
            ComplaintReference = complaint,
        };

    public static Gen<decimal> Percent => Gen.Choose(0, 10_000).Select(bp => bp / 100m);

    public static Gen<DiscountDefinition> Discount =>
        Gen.OneOf(
            from percent in Percent
            from max in Gen.Elements<long?>(null, 1_000, 500_000, 50_000_000)
            select new DiscountDefinition { Type = DiscountTypes.Percent, Percent = percent, MaxAmount = max },
            from amount in Gen.Choose(-1_000, 20_000_000)
            select new DiscountDefinition { Type = DiscountTypes.Fixed, Amount = amount },
            from basis in Gen.Elements(DiscountCalculator.OrderValueBasis, DiscountCalculator.QuantityBasis)
            from froms in Gen.ArrayOf(Amount(5_000_000), 3)
            from percents in Gen.ArrayOf(Percent, 3)
            select new DiscountDefinition
            {
                Type = DiscountTypes.Slab,
                Basis = basis,
                Slabs = [.. froms.Zip(percents, (f, p) => new Slab { From = basis == DiscountCalculator.QuantityBasis ? f / 50_000 : f, Percent = p })],
            });

    public static Gen<CampaignDefinition> Campaign =>
        from kind in Gen.Elements(CampaignKinds.All)
        from discount in Discount
        from skus in Gen.SubListOf(s_skus)
        from floor in Gen.Elements<decimal?>(null, 0m, 5m, 12.5m, 30m, 60m)
        from mode in Gen.Elements(MarginModes.Reject, MarginModes.Cap, MarginModes.Approval)
        from lineCap in Gen.Elements<long?>(null, 10_000, 1_000_000)
        select TestCampaigns.Definition(kind, discount) with
        {
            Eligibility = new EligibilityRules { Skus = [.. skus] },
            MarginFloorPercent = floor,
            MarginMode = mode,
            Bundle = new BundleDefinition
            {
                Items = [new BundleItem { Sku = "BP-220", Quantity = 2 }, new BundleItem { LabourCode = "LAB-BP-220" }],
            },
            Warranty = new WarrantyDefinition { PerLineCap = lineCap },
        };

    public static DealerProfile Dealer(string tier = ChannelTiers.ServiceCenter) =>
        new() { Id = "D-1", Name = "Rao Motors", ChannelTier = tier, Region = "south" };
}
