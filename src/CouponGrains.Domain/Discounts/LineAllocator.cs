namespace CouponGrains.Domain.Discounts;

/// <summary>
/// Splits an order-level amount across order lines in proportion to their weights (line values),
/// in whole minor units, by the largest-remainder method, so the shares always add up to the total
/// exactly.
/// </summary>
public static class LineAllocator
{
    // Up to this many lines the remainders live on the stack and the leftover units are handed out by
    // repeated scans; larger orders sort once.
    private const int StackLimit = 64;

    /// <summary>
    /// Allocates <paramref name="total"/> over lines whose weights are <paramref name="weights"/>
    /// (a line with weight 0 gets nothing), writing each line's share to <paramref name="shares"/>
    /// (which may be the same memory as the weights).
    /// <list type="bullet">
    /// <item>Each line first gets floor(total × weight / Σweights); the units left over (fewer than the
    /// number of lines) go one each to the lines with the largest remainders; equal remainders go to
    /// the lower line index first, so the split is deterministic.</item>
    /// <item>Since 0 ≤ total ≤ Σweights, no share is negative and none exceeds its weight.</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">A negative weight or total, a total above Σweights, or spans of unequal length.</exception>
    public static void Allocate(long total, ReadOnlySpan<long> weights, Span<long> shares)
    {
        if (shares.Length != weights.Length)
        {
            throw new ArgumentException("There must be one share for each weight.", nameof(shares));
        }

        long sum = 0;
        foreach (var w in weights)
        {
            if (w < 0)
            {
                throw new ArgumentException("A weight is negative.", nameof(weights));
            }

            sum = checked(sum + w);
        }

        if (total < 0 || total > sum)
        {
            throw new ArgumentException($"The total {total} is outside [0, {sum}].", nameof(total));
        }

        var n = weights.Length;
        if (total == 0 || total == sum)
        {
            for (var i = 0; i < n; i++)
            {
                shares[i] = total == 0 ? 0 : weights[i];
            }

            return;
        }

        // total × weight needs up to 126 bits; the remainder is below sum and fits a long.
        Span<long> remainders = n <= StackLimit ? stackalloc long[n] : new long[n];
        long given = 0;
        for (var i = 0; i < n; i++)
        {
            var product = (Int128)total * weights[i];
            var share = (long)(product / sum);
            remainders[i] = (long)(product % sum);
            shares[i] = share;
            given += share;
        }

        var left = total - given;
        if (left == 0)
        {
            return;
        }

        if (n <= StackLimit)
        {
            for (; left > 0; left--)
            {
                var best = 0;
                for (var i = 1; i < n; i++)
                {
                    if (remainders[i] > remainders[best])
                    {
                        best = i;
                    }
                }

                shares[best]++;
                remainders[best] = -1;
            }

            return;
        }

        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = remainders.ToArray();
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        for (var k = 0; k < left; k++)
        {
            shares[order[k]]++;
        }
    }

    /// <summary>Allocates into a new array; see <see cref="Allocate(long, ReadOnlySpan{long}, Span{long})"/>.</summary>
    public static long[] Allocate(long total, ReadOnlySpan<long> weights)
    {
        var shares = new long[weights.Length];
        Allocate(total, weights, shares);
        return shares;
    }
}
