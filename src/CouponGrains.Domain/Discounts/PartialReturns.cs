namespace CouponGrains.Domain.Discounts;

/// <summary>One line of a redemption being (partly) returned.</summary>
/// <param name="Discount">The discount the redemption gave this line, minor units.</param>
/// <param name="Quantity">The quantity the redemption was for.</param>
/// <param name="ReturnedBefore">The quantity returned by earlier partial returns.</param>
/// <param name="ReturningNow">The quantity this return brings back.</param>
public readonly record struct ReturnLine(long Discount, long Quantity, long ReturnedBefore, long ReturningNow);

/// <summary>What a return restores.</summary>
/// <param name="LineRestores">Discount restored per line, same order as the input lines.</param>
/// <param name="Total">Σ <paramref name="LineRestores"/>: the amount to give back to every amount cap and the budget.</param>
/// <param name="CompletesReversal">
/// True when, with this return, every unit of every line has come back: the whole redemption is
/// reversed and only then are its counts (coupon uses, branch and customer redemptions, count caps)
/// restored.
/// </param>
public sealed record ReturnRestoration(long[] LineRestores, long Total, bool CompletesReversal);

/// <summary>
/// Partial returns as a pure function. What a line has restored after returning r of its q units is
/// floor(discount × r / q): rounded down, so partial returns never restore more than was taken, and
/// exactly the line's discount once r = q. A return restores the difference between that figure after
/// and before it, so any sequence of returns ending in a full return restores exactly the discount.
/// <para>
/// Count caps: a redemption counts once however many units it covers, so a partial return restores
/// amounts only; the count (coupon use, branch / customer / period count) is restored by the return
/// that completes the reversal (<see cref="ReturnRestoration.CompletesReversal"/>), exactly once.
/// </para>
/// </summary>
public static class PartialReturns
{
    /// <summary>The restoration for one return over the redemption's lines.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A negative discount or quantity, or returned quantities beyond what the line was for
    /// (request validation rejects these first).
    /// </exception>
    public static ReturnRestoration Restore(IReadOnlyList<ReturnLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);

        var restores = new long[lines.Count];
        long total = 0;
        var complete = true;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Discount < 0 || line.Quantity < 0 || line.ReturnedBefore < 0 || line.ReturningNow < 0
                || line.ReturnedBefore > line.Quantity || line.ReturningNow > line.Quantity - line.ReturnedBefore)
            {
                throw new ArgumentOutOfRangeException(nameof(lines), $"Line {i} returns more than it was for, or has a negative figure.");
            }

            var returnedAfter = line.ReturnedBefore + line.ReturningNow;
            restores[i] = RestoredAfter(line.Discount, line.Quantity, returnedAfter)
                - RestoredAfter(line.Discount, line.Quantity, line.ReturnedBefore);
            total = checked(total + restores[i]);
            complete &= returnedAfter == line.Quantity;
        }

        return new ReturnRestoration(restores, total, complete);
    }

    /// <summary>What a line has restored in all once <paramref name="returned"/> of its <paramref name="quantity"/> units are back.</summary>
    public static long RestoredAfter(long discount, long quantity, long returned) =>
        quantity <= 0 ? 0 : (long)((Int128)discount * returned / quantity);
}
