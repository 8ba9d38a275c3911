using BenchmarkDotNet.Attributes;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Domain.Rules;

namespace CouponGrains.Benchmarks;

/// <summary>
/// One rule evaluation of a 20-line order against a campaign whose SKU lists hold 10,000 SKUs: the
/// per-request domain cost on the redemption hot path. Operations per second per core = 1 s / Mean.
/// </summary>
[MemoryDiagnoser]
public class RuleEvaluationBenchmarks
{
    private const int SkuCount = 10_000;
    private static readonly DateTimeOffset s_now = new(2026, 11, 15, 6, 30, 0, TimeSpan.Zero);

    private CampaignDefinition _promo = null!;
    private CompiledRules _promoRules = null!;
    private CampaignDefinition _slab = null!;
    private CompiledRules _slabRules = null!;
    private CampaignDefinition _warranty = null!;
    private CompiledRules _warrantyRules = null!;
    private OrderContext _order = null!;
    private DealerProfile _dealer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var skus = new string[SkuCount];
        for (var i = 0; i < SkuCount; i++)
        {
            skus[i] = $"SKU-{i:D6}";
        }

        var excluded = new string[SkuCount];
        for (var i = 0; i < SkuCount; i++)
        {
            excluded[i] = $"OLD-{i:D6}";
        }

        _promo = new CampaignDefinition
        {
            Name = "Diwali brake-pad push",
            Kind = CampaignKinds.DealerPromo,
            Currency = "INR",
            Budget = 50_000_000,
            ValidFrom = new DateTime(2026, 11, 1),
            ValidUntil = new DateTime(2026, 11, 30, 23, 59, 59),
            TimeZone = "Asia/Kolkata",
            Discount = new DiscountDefinition { Type = DiscountTypes.Percent, Percent = 10m, MaxAmount = 500_000 },
            Eligibility = new EligibilityRules
            {
                Skus = skus,
                ExcludedSkus = excluded,
                Categories = ["brakes"],
                ChannelTiers = [ChannelTiers.Dealer, ChannelTiers.ServiceCenter],
                MinOrderValue = 100_000,
            },
            MarginFloorPercent = 12m,
            MarginMode = MarginModes.Cap,
        };
        _promoRules = CompiledRules.Compile(_promo);

        _slab = _promo with
        {
            Kind = CampaignKinds.TargetSlab,
            Discount = new DiscountDefinition
            {
                Type = DiscountTypes.Slab,
                Slabs = [new Slab { From = 0, Percent = 5m }, new Slab { From = 500_000, Percent = 8m }, new Slab { From = 2_000_000, Percent = 10m }],
            },
        };
        _slabRules = CompiledRules.Compile(_slab);

        _warranty = _promo with
        {
            Kind = CampaignKinds.Warranty,
            Eligibility = _promo.Eligibility with { ChannelTiers = [] },
            Warranty = new WarrantyDefinition { PerLineCap = 50_000 },
        };
        _warrantyRules = CompiledRules.Compile(_warranty);

        var lines = new OrderLine[20];
        for (var i = 0; i < lines.Length; i++)
        {
            // Every fourth line is outside the lists, so the eligibility check takes both paths.
            lines[i] = new OrderLine
            {
                Sku = i % 4 == 3 ? $"NEW-{i:D6}" : skus[i * 487],
                Category = i % 2 == 0 ? "brakes" : "filters",
                Quantity = 1 + i % 5,
                UnitPrice = 18_500 + 1_000 * i,
                UnitCost = 13_100 + 700 * i,
            };
        }

        _order = new OrderContext
        {
            Code = "DLR-7KQ2-M9XW-4TPA",
            DealerId = "D-104",
            BranchId = "D-104-PUNE",
            OrderId = "SO-2026-118842",
            Region = "west",
            Lines = lines,
            SerialNumber = "ENG-99812",
        };
        _dealer = new DealerProfile { Id = "D-104", Name = "Sharma Traders", ChannelTier = ChannelTiers.ServiceCenter, Region = "west" };
    }

    [Benchmark(Baseline = true)]
    public long DealerPromoPercent() => CampaignRules.Evaluate(_promoRules, _promo, _order, _dealer, s_now).Discount;

    [Benchmark]
    public long TargetSlab() => CampaignRules.Evaluate(_slabRules, _slab, _order, _dealer, s_now).Discount;

    [Benchmark]
    public long WarrantyPerLine() => CampaignRules.Evaluate(_warrantyRules, _warranty, _order, _dealer, s_now).Discount;
}
