namespace CouponGrains.Domain.Discounts;

/// <summary>
/// Margin arithmetic for the guardrail, exact: margin% = (revenue − discount − cost) / (revenue − discount)
/// × 100 is only ever compared by cross-multiplying in decimal, never divided, never in floating point.
/// </summary>
public static class MarginGuard
{
    /// <summary>
    /// True when the margin after <paramref name="discount"/> is below <paramref name="floorPercent"/>.
    /// A discount that consumes the whole revenue leaves no margin to speak of and counts as a breach.
    /// </summary>
    public static bool Breached(long revenue, long cost, long discount, decimal floorPercent)
    {
        decimal net = (decimal)revenue - discount;
        if (net <= 0)
        {
            return true;
        }

        return (net - cost) * 100m < floorPercent * net;
    }

    /// <summary>
    /// The largest discount in [0, <paramref name="revenue"/>] that keeps the margin at or above the floor,
    /// or −1 when even no discount does (the order is below the floor at list price).
    /// </summary>
    public static long MaxDiscount(long revenue, long cost, decimal floorPercent)
    {
        if (revenue <= 0 || Breached(revenue, cost, 0, floorPercent))
        {
            return -1;
        }

        // Breached is monotone in the discount. Below a 100% floor the boundary solves
        // (R − D)(100 − f) ≥ 100·C, i.e. D ≤ R − ⌈100·C / (100 − f)⌉; decimal division may round in the
        // 28th digit, so the candidate is verified against the exact test and searched for otherwise.
        if (floorPercent < 100m)
        {
            var candidate = revenue - (long)decimal.Ceiling(100m * cost / (100m - floorPercent));
            if (candidate >= 0 && candidate <= revenue && !Breached(revenue, cost, candidate, floorPercent)
                && (candidate == revenue || Breached(revenue, cost, candidate + 1, floorPercent)))
            {
                return candidate;
            }
        }

        long lo = 0, hi = revenue;
        while (lo < hi)
        {
            var mid = lo + (hi - lo + 1) / 2;
            if (Breached(revenue, cost, mid, floorPercent))
            {
                hi = mid - 1;
            }
            else
            {
                lo = mid;
            }
        }

        return lo;
    }

    /// <summary>The margin in percent after the discount, rounded to 4 decimals for display; null when nothing is left of the revenue.</summary>
    public static decimal? MarginPercent(long revenue, long cost, long discount)
    {
        decimal net = (decimal)revenue - discount;
        return net <= 0 ? null : decimal.Round((net - cost) * 100m / net, 4);
    }
}
