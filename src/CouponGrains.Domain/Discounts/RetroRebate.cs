using CouponGrains.Contracts.Campaigns;
using CouponGrains.Domain.Money;

namespace CouponGrains.Domain.Discounts;

/// <summary>
/// What one order does to a dealer's retro rebate for the period.
/// </summary>
/// <param name="CumulativeBefore">The period's eligible purchases before this order, minor units.</param>
/// <param name="CumulativeAfter">The same, with this order.</param>
/// <param name="PercentBefore">The rebate percent reached before this order (0 below the first threshold).</param>
/// <param name="PercentAfter">The rebate percent reached with this order.</param>
/// <param name="AccruedBefore">The rebate owed for the period before this order.</param>
/// <param name="AccruedAfter">The rebate owed for the period with this order: the total accrued.</param>
/// <param name="ThresholdsCrossed">How many thresholds this order crossed.</param>
public sealed record RebateAccrual(
    long CumulativeBefore, long CumulativeAfter, decimal PercentBefore, decimal PercentAfter,
    long AccruedBefore, long AccruedAfter, int ThresholdsCrossed)
{
    /// <summary>The accrual this order causes (AccruedAfter − AccruedBefore); never negative.</summary>
    public long Delta => AccruedAfter - AccruedBefore;
}

/// <summary>
/// The retro rebate accrual as a pure function. Slabs map a threshold of cumulative eligible purchases
/// in the period to a percent; the percent reached applies retroactively to ALL of the period's
/// eligible purchases, so crossing a threshold re-prices what was bought before. The order itself
/// gets no instant discount: the accrual is settled later by credit note.
/// </summary>
public static class RetroRebate
{
    /// <summary>
    /// The accrual for an order worth <paramref name="orderAmount"/> after the period's
    /// <paramref name="priorPurchases"/>. The total accrued is floor(cumulative × percent / 100),
    /// computed on the cumulative sum (not per purchase), so rounding never adds up across orders and
    /// the deltas of all orders sum exactly to the period's total. The percent is the highest of the
    /// slabs reached, so the accrual never goes down as purchases grow.
    /// </summary>
    public static RebateAccrual Accrue(IReadOnlyList<long> priorPurchases, long orderAmount, IReadOnlyList<Slab> slabs)
    {
        ArgumentNullException.ThrowIfNull(priorPurchases);
        ArgumentNullException.ThrowIfNull(slabs);

        long before = 0;
        for (var i = 0; i < priorPurchases.Count; i++)
        {
            before = checked(before + Math.Max(0, priorPurchases[i]));
        }

        var after = checked(before + Math.Max(0, orderAmount));
        var percentBefore = PercentAt(before, slabs);
        var percentAfter = PercentAt(after, slabs);

        var crossed = 0;
        for (var i = 0; i < slabs.Count; i++)
        {
            if (slabs[i].From > before && slabs[i].From <= after)
            {
                crossed++;
            }
        }

        return new RebateAccrual(
            before, after, percentBefore, percentAfter,
            MoneyMath.PercentOf(before, percentBefore), MoneyMath.PercentOf(after, percentAfter), crossed);
    }

    /// <summary>The highest percent among the slabs whose threshold ≤ <paramref name="cumulative"/>; 0 when none is reached.</summary>
    public static decimal PercentAt(long cumulative, IReadOnlyList<Slab> slabs)
    {
        ArgumentNullException.ThrowIfNull(slabs);
        var percent = 0m;
        for (var i = 0; i < slabs.Count; i++)
        {
            if (slabs[i].From <= cumulative && slabs[i].Percent > percent)
            {
                percent = slabs[i].Percent;
            }
        }

        return percent;
    }
}
