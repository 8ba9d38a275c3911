using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Money;

namespace CouponGrains.Domain.Discounts;

/// <summary>
/// Turns a campaign's <see cref="DiscountDefinition"/> into an amount for an order's eligible lines.
/// All amounts are minor units; percentages are rounded down so the campaign never pays a fraction
/// of a minor unit more than it promised.
/// </summary>
public static class DiscountCalculator
{
    /// <summary>Slab basis: slabs are reached by the eligible order value (minor units). The default.</summary>
    public const string OrderValueBasis = "order_value";

    /// <summary>Slab basis: slabs are reached by the eligible quantity (units).</summary>
    public const string QuantityBasis = "quantity";

    /// <summary>
    /// The discount for an order whose eligible lines are worth <paramref name="eligibleValue"/> and
    /// count <paramref name="eligibleQuantity"/> units.
    /// <list type="bullet">
    /// <item><c>percent</c>: floor(eligibleValue × Percent / 100), capped at MaxAmount when set.</item>
    /// <item><c>fixed</c>: Amount.</item>
    /// <item><c>slab</c>: the slab with the greatest From ≤ the basis (eligible value, or quantity when
    /// Basis is <c>quantity</c>) gives a percent of the eligible value, rounded down and capped at
    /// MaxAmount when set; 0 when no slab is reached.</item>
    /// </list>
    /// The result is always within [0, eligibleValue]: a discount never turns into a surcharge and
    /// never exceeds what the eligible lines are worth.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown discount type or slab basis (validation rejects both earlier).</exception>
    public static long Compute(DiscountDefinition d, long eligibleValue, long eligibleQuantity) =>
        Compute(d, eligibleValue, eligibleQuantity, out _);

    /// <summary>
    /// As <see cref="Compute(DiscountDefinition, long, long)"/>, and says which tier was chosen:
    /// <paramref name="slabIndex"/> is the index into <see cref="DiscountDefinition.Slabs"/> of the slab
    /// reached, or −1 when the discount is not a slab or no slab is reached.
    /// </summary>
    public static long Compute(DiscountDefinition d, long eligibleValue, long eligibleQuantity, out int slabIndex)
    {
        ArgumentNullException.ThrowIfNull(d);

        slabIndex = -1;
        var raw = d.Type switch
        {
            DiscountTypes.Percent => Capped(MoneyMath.PercentOf(eligibleValue, d.Percent), d.MaxAmount),
            DiscountTypes.Fixed => d.Amount,
            DiscountTypes.Slab => Capped(SlabDiscount(d, eligibleValue, eligibleQuantity, out slabIndex), d.MaxAmount),
            _ => throw new ArgumentException($"Unknown discount type '{d.Type}'.", nameof(d)),
        };

        // Clamp last so that every branch, including odd definitions (a negative amount, a fixed amount
        // larger than the order), lands in range. An eligible value ≤ 0 means there is nothing to discount.
        return eligibleValue <= 0 ? 0 : MoneyMath.Clamp(raw, 0, eligibleValue);
    }

    private static long SlabDiscount(DiscountDefinition d, long eligibleValue, long eligibleQuantity, out int slabIndex)
    {
        var basis = d.Basis switch
        {
            null or OrderValueBasis => eligibleValue,
            QuantityBasis => eligibleQuantity,
            _ => throw new ArgumentException($"Unknown slab basis '{d.Basis}'.", nameof(d)),
        };

        // Slabs are few and may arrive in any order, so a single pass beats sorting. On equal From the
        // first one wins (validation rejects duplicates anyway).
        slabIndex = SlabReached(d.Slabs, basis);
        return slabIndex < 0 ? 0 : MoneyMath.PercentOf(eligibleValue, d.Slabs[slabIndex].Percent);
    }

    /// <summary>
    /// The index of the slab with the greatest From ≤ <paramref name="basis"/> (the first on equal From),
    /// or −1 when none is reached.
    /// </summary>
    public static int SlabReached(IReadOnlyList<Slab> slabs, long basis)
    {
        ArgumentNullException.ThrowIfNull(slabs);
        var best = -1;
        for (var i = 0; i < slabs.Count; i++)
        {
            if (slabs[i].From <= basis && (best < 0 || slabs[i].From > slabs[best].From))
            {
                best = i;
            }
        }

        return best;
    }

    private static long Capped(long amount, long? max) => max is { } cap && amount > cap ? cap : amount;
}
