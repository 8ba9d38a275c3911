using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Domain.Analytics;

/// <summary>Where a line's figures are summed: the redemption's UTC day, campaign, dealer, and the line's SKU and category.</summary>
public readonly record struct LineKey(DateOnly Day, string CampaignId, string DealerId, string Sku, string Category);

/// <summary>
/// Sums over discounted order lines, minor units. Bought figures and what came back are kept apart (net = bought −
/// returned), and so is the part of each without a known unit cost, so that margins are computed over costed lines only.
/// </summary>
public readonly record struct LineFigures(
    long Lines, long Units, long Revenue, long Discount, long Cost,
    long UncostedUnits, long UncostedRevenue, long UncostedDiscount,
    long Returns, long ReturnedUnits, long ReturnedRevenue, long ReturnedDiscount, long ReturnedCost,
    long ReturnedUncostedUnits, long ReturnedUncostedRevenue, long ReturnedUncostedDiscount)
{
    public static LineFigures operator +(LineFigures a, LineFigures b) => checked(new(
        a.Lines + b.Lines, a.Units + b.Units, a.Revenue + b.Revenue, a.Discount + b.Discount, a.Cost + b.Cost,
        a.UncostedUnits + b.UncostedUnits, a.UncostedRevenue + b.UncostedRevenue, a.UncostedDiscount + b.UncostedDiscount,
        a.Returns + b.Returns, a.ReturnedUnits + b.ReturnedUnits, a.ReturnedRevenue + b.ReturnedRevenue,
        a.ReturnedDiscount + b.ReturnedDiscount, a.ReturnedCost + b.ReturnedCost, a.ReturnedUncostedUnits + b.ReturnedUncostedUnits,
        a.ReturnedUncostedRevenue + b.ReturnedUncostedRevenue, a.ReturnedUncostedDiscount + b.ReturnedUncostedDiscount));

    /// <summary>A line bought with a redemption.</summary>
    public static LineFigures Bought(RedemptionEventLine line)
    {
        var revenue = checked(line.Quantity * line.UnitPrice);
        return line.UnitCost is { } cost
            ? new(1, line.Quantity, revenue, line.Discount, checked(line.Quantity * cost), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            : new(1, line.Quantity, revenue, line.Discount, 0, line.Quantity, revenue, line.Discount, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>Units of a line brought back by one reversal, with the discount it restored.</summary>
    public static LineFigures Returned(RedemptionEventLine line)
    {
        var revenue = checked(line.Quantity * line.UnitPrice);
        return line.UnitCost is { } cost
            ? new(0, 0, 0, 0, 0, 0, 0, 0, 1, line.Quantity, revenue, line.Discount, checked(line.Quantity * cost), 0, 0, 0)
            : new(0, 0, 0, 0, 0, 0, 0, 0, 1, line.Quantity, revenue, line.Discount, 0, line.Quantity, revenue, line.Discount);
    }
}

/// <summary>
/// Net figures and gross margin of a <see cref="LineFigures"/> sum. Margins are over the lines whose unit cost is
/// known (costed), so an order that did not send costs never passes for a 100 % margin; the uncosted share is
/// reported beside them. Margin impact is minus the net discount over every line: a discount comes straight off margin.
/// </summary>
public sealed record MarginFigures
{
    public long NetUnits { get; init; }
    public long NetRevenue { get; init; }
    public long NetDiscount { get; init; }
    /// <summary>Net revenue of the lines without a known cost (not in any margin below).</summary>
    public long UncostedRevenue { get; init; }
    public long CostedRevenue { get; init; }
    public long CostedDiscount { get; init; }
    public long Cost { get; init; }
    /// <summary>Costed revenue − cost; null when no costed unit was bought.</summary>
    public long? MarginBeforeDiscount { get; init; }
    /// <summary>Costed revenue − costed discount − cost; null when no costed unit was bought.</summary>
    public long? MarginAfterDiscount { get; init; }
    /// <summary>Margin after discount over costed revenue net of discount, basis points; null without costed sales.</summary>
    public long? GrossMarginBps { get; init; }
    /// <summary>Margin before discount over costed revenue, basis points; null without costed revenue.</summary>
    public long? GrossMarginBeforeDiscountBps { get; init; }
    public long MarginImpact { get; init; }

    public static MarginFigures Of(LineFigures f)
    {
        checked
        {
            var netRevenue = f.Revenue - f.ReturnedRevenue;
            var netDiscount = f.Discount - f.ReturnedDiscount;
            var uncostedRevenue = f.UncostedRevenue - f.ReturnedUncostedRevenue;
            var costedRevenue = netRevenue - uncostedRevenue;
            var costedDiscount = netDiscount - (f.UncostedDiscount - f.ReturnedUncostedDiscount);
            var cost = f.Cost - f.ReturnedCost;
            var costed = f.Units - f.UncostedUnits > 0;
            var before = costedRevenue - cost;
            var after = before - costedDiscount;
            var netSales = costedRevenue - costedDiscount;
            return new MarginFigures
            {
                NetUnits = f.Units - f.ReturnedUnits,
                NetRevenue = netRevenue,
                NetDiscount = netDiscount,
                UncostedRevenue = uncostedRevenue,
                CostedRevenue = costedRevenue,
                CostedDiscount = costedDiscount,
                Cost = cost,
                MarginBeforeDiscount = costed ? before : null,
                MarginAfterDiscount = costed ? after : null,
                GrossMarginBps = costed && netSales > 0 ? (long)((Int128)after * 10_000 / netSales) : null,
                GrossMarginBeforeDiscountBps = costed && costedRevenue > 0 ? (long)((Int128)before * 10_000 / costedRevenue) : null,
                MarginImpact = -netDiscount,
            };
        }
    }
}

/// <summary>Per-line analytics as pure functions: what an event's lines are, and what a batch of events adds up to.</summary>
public static class LineAnalytics
{
    /// <summary>A redemption's discounted lines as its committed event carries them.</summary>
    public static RedemptionEventLine[] Bought(IReadOnlyList<RedemptionLine> lines) =>
        lines.Select(l => new RedemptionEventLine
        {
            Line = l.Line, Sku = l.Sku, Category = l.Category, Quantity = l.Quantity, UnitPrice = l.UnitPrice, UnitCost = l.UnitCost,
            Discount = l.Discount,
        }).ToArray();

    /// <summary>
    /// What one reversal brought back, from the lines before and after it: per line that changed, the units returned
    /// now and the discount restored now. The restored shares sum to the reversal's amount because the ledger's
    /// running figures are exactly the sums of these differences (see <c>PartialReturns</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The two sides are not the same lines, or a line went backwards.</exception>
    public static RedemptionEventLine[] Returned(IReadOnlyList<RedemptionLine> before, IReadOnlyList<RedemptionLine> after)
    {
        if (before.Count != after.Count)
        {
            throw new ArgumentException("A reversal keeps the redemption's lines.", nameof(after));
        }

        var returned = new List<RedemptionEventLine>();
        for (var i = 0; i < after.Count; i++)
        {
            var (was, now) = (before[i], after[i]);
            var units = now.ReturnedQuantity - was.ReturnedQuantity;
            var restored = now.RestoredDiscount - was.RestoredDiscount;
            if (was.Line != now.Line || units < 0 || restored < 0)
            {
                throw new ArgumentException($"Line {now.Line} does not follow from line {was.Line}.", nameof(after));
            }

            if (units > 0 || restored > 0)
            {
                returned.Add(new RedemptionEventLine
                {
                    Line = now.Line, Sku = now.Sku, Category = now.Category, Quantity = units, UnitPrice = now.UnitPrice,
                    UnitCost = now.UnitCost, Discount = restored,
                });
            }
        }

        return returned.ToArray();
    }

    /// <summary>
    /// What a batch of events adds to each line key: committed lines as bought, reversed lines as returned, both on the
    /// redemption's day (like the daily figures), so a day's per-line net always matches the ledger for that day's redemptions.
    /// </summary>
    public static Dictionary<LineKey, LineFigures> Aggregate(IEnumerable<RedemptionEvent> events)
    {
        var sums = new Dictionary<LineKey, LineFigures>();
        foreach (var e in events)
        {
            if (e.Type == RedemptionEventType.Invoiced)
            {
                continue;
            }

            var day = DateOnly.FromDateTime(e.RedeemedAt.UtcDateTime);
            foreach (var line in e.Lines)
            {
                var key = new LineKey(day, e.CampaignId, e.DealerId, line.Sku, line.Category ?? "");
                var figures = e.Type == RedemptionEventType.Committed ? LineFigures.Bought(line) : LineFigures.Returned(line);
                sums[key] = sums.GetValueOrDefault(key) + figures;
            }
        }

        return sums;
    }
}
