using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Orders;

namespace CouponGrains.Domain.Rules;

/// <summary>
/// A service bundle's required parts and labour as hash lookups: which item an order line fills, and
/// the quantity each item needs. Immutable and thread-safe.
/// </summary>
public sealed class BundleRequirements
{
    private static readonly BundleRequirements s_none = new([], new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    private readonly Dictionary<string, int> _bySku;
    private readonly Dictionary<string, int> _byLabourCode;

    private BundleRequirements(long[] required, Dictionary<string, int> bySku, Dictionary<string, int> byLabourCode)
    {
        Required = required;
        _bySku = bySku;
        _byLabourCode = byLabourCode;
    }

    /// <summary>The least quantity each item needs, by item index.</summary>
    public IReadOnlyList<long> Required { get; }

    /// <summary>How many items the bundle has.</summary>
    public int Count => Required.Count;

    /// <summary>Compiles a bundle definition; null compiles to an empty bundle.</summary>
    public static BundleRequirements Compile(BundleDefinition? bundle)
    {
        if (bundle is null || bundle.Items.Length == 0)
        {
            return s_none;
        }

        var required = new long[bundle.Items.Length];
        var bySku = new Dictionary<string, int>(StringComparer.Ordinal);
        var byLabour = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < bundle.Items.Length; i++)
        {
            var item = bundle.Items[i];
            required[i] = Math.Max(1, item.Quantity);

            // An item names a labour code or a SKU; a repeated one fills its first item.
            if (item.LabourCode is { } labour)
            {
                byLabour.TryAdd(labour, i);
            }
            else if (item.Sku is { } sku)
            {
                bySku.TryAdd(sku, i);
            }
        }

        return new BundleRequirements(required, bySku, byLabour);
    }

    /// <summary>
    /// The index of the item <paramref name="line"/> fills, or −1: a labour line by its labour code, a
    /// part line by its SKU.
    /// </summary>
    public int ItemOf(OrderLine line)
    {
        if (line.IsLabour)
        {
            return line.LabourCode is { } code && _byLabourCode.TryGetValue(code, out var byCode) ? byCode : -1;
        }

        return _bySku.TryGetValue(line.Sku, out var bySku) ? bySku : -1;
    }
}

/// <summary>A warranty campaign's terms compiled for lookups. Immutable and thread-safe.</summary>
public sealed class WarrantyTerms
{
    private static readonly string[] s_defaultTiers = [Contracts.Dealers.ChannelTiers.ServiceCenter];

    private readonly Dictionary<string, int> _ranks;

    private WarrantyTerms(long? perLineCap, HashSet<string> tiers, Dictionary<string, int> ranks, int minRank)
    {
        PerLineCap = perLineCap;
        ChannelTiers = tiers;
        _ranks = ranks;
        MinRank = minRank;
    }

    /// <summary>The most the cover gives on one line, minor units; null means no cap.</summary>
    public long? PerLineCap { get; }

    /// <summary>The channel tiers that may use the cover (<c>service_center</c> unless configured).</summary>
    public IReadOnlySet<string> ChannelTiers { get; }

    /// <summary>The least dealer-tier rank required, or −1 when none is.</summary>
    public int MinRank { get; }

    public static WarrantyTerms Compile(WarrantyDefinition? warranty)
    {
        warranty ??= new WarrantyDefinition();
        var tiers = CompiledRules.ToSet(warranty.ChannelTiers.Length == 0 ? s_defaultTiers : warranty.ChannelTiers);
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < warranty.DealerTierRanks.Length; i++)
        {
            ranks.TryAdd(warranty.DealerTierRanks[i], i);
        }

        // An unknown minimum tier can't be met by anyone: rank past the end.
        var minRank = warranty.MinDealerTier is not { } min ? -1
            : ranks.TryGetValue(min, out var rank) ? rank : int.MaxValue;
        return new WarrantyTerms(warranty.PerLineCap, tiers, ranks, minRank);
    }

    /// <summary>The highest tier rank among <paramref name="tags"/>, or −1 when none is a tier.</summary>
    public int RankOf(string[] tags)
    {
        var best = -1;
        foreach (var tag in tags)
        {
            if (tag is not null && _ranks.TryGetValue(tag, out var rank) && rank > best)
            {
                best = rank;
            }
        }

        return best;
    }
}
