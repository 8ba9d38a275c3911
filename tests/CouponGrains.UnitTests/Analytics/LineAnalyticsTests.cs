using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Analytics;
using CouponGrains.Domain.Discounts;
using Xunit;

namespace CouponGrains.UnitTests.Analytics;

public sealed class LineAnalyticsTests
{
    private static readonly DateTimeOffset s_redeemedAt = new(2026, 11, 3, 23, 30, 0, TimeSpan.Zero);

    private static RedemptionLine[] Bought() =>
    [
        new() { Line = 0, Sku = "BP-220", Category = "brakes", Quantity = 3, UnitPrice = 10_000, UnitCost = 7_000, Discount = 1_000 },
        new() { Line = 2, Sku = "OF-10", Category = "filters", Quantity = 5, UnitPrice = 2_000, UnitCost = null, Discount = 700 },
    ];

    /// <summary>The lines after one return, as the redemption grain computes them.</summary>
    private static RedemptionLine[] Return(RedemptionLine[] lines, params long[] now)
    {
        var restoration = PartialReturns.Restore(lines.Select((l, i) => new ReturnLine(l.Discount, l.Quantity, l.ReturnedQuantity, now[i])).ToArray());
        return lines.Select((l, i) => l with
        {
            ReturnedQuantity = l.ReturnedQuantity + now[i],
            RestoredDiscount = l.RestoredDiscount + restoration.LineRestores[i],
        }).ToArray();
    }

    private static RedemptionEvent Event(RedemptionEventType type, string id, RedemptionEventLine[] lines) => new()
    {
        EventId = $"R-1:{id}", RedemptionId = "R-1", Type = type, CampaignId = "C-1", DealerId = "D-1", Code = "X", Currency = "INR",
        RedeemedAt = s_redeemedAt, Lines = lines,
    };

    [Fact]
    public void AReturnCarriesOnlyTheLinesItChangedWithTheUnitsAndDiscountOfThatReturn()
    {
        var before = Return(Bought(), 1, 0);
        var after = Return(before, 1, 2);

        var returned = LineAnalytics.Returned(before, after);

        Assert.Equal(2, returned.Length);
        Assert.Equal(("BP-220", 1L, 333L), (returned[0].Sku, returned[0].Quantity, returned[0].Discount));
        Assert.Equal(("OF-10", 2L, 280L), (returned[1].Sku, returned[1].Quantity, returned[1].Discount));
        Assert.Equal((7_000L, 10_000L, "brakes"), (returned[0].UnitCost!.Value, returned[0].UnitPrice, returned[0].Category));
        Assert.Null(returned[1].UnitCost);
        Assert.Single(LineAnalytics.Returned(Bought(), before));
    }

    [Fact]
    public void ReturnsEndingInAFullReversalBringBackExactlyWhatWasBought()
    {
        var bought = Bought();
        var first = Return(bought, 1, 0);
        var second = Return(first, 0, 4);
        var full = Return(second, 2, 1);
        var events = new[]
        {
            Event(RedemptionEventType.Committed, "committed", LineAnalytics.Bought(bought)),
            Event(RedemptionEventType.Reversed, "reversed:1", LineAnalytics.Returned(bought, first)),
            Event(RedemptionEventType.Reversed, "reversed:2", LineAnalytics.Returned(first, second)),
            Event(RedemptionEventType.Reversed, "reversed:3", LineAnalytics.Returned(second, full)),
        };

        var sums = LineAnalytics.Aggregate(events);

        Assert.Equal(2, sums.Count);
        foreach (var (key, f) in sums)
        {
            Assert.Equal(new DateOnly(2026, 11, 3), key.Day);
            Assert.Equal((f.Units, f.Revenue, f.Discount, f.Cost), (f.ReturnedUnits, f.ReturnedRevenue, f.ReturnedDiscount, f.ReturnedCost));
            Assert.Equal((f.UncostedUnits, f.UncostedRevenue, f.UncostedDiscount),
                (f.ReturnedUncostedUnits, f.ReturnedUncostedRevenue, f.ReturnedUncostedDiscount));
            var margin = MarginFigures.Of(f);
            Assert.Equal((0L, 0L, 0L), (margin.NetUnits, margin.NetRevenue, margin.NetDiscount));
        }

        var brakes = sums[new LineKey(new DateOnly(2026, 11, 3), "C-1", "D-1", "BP-220", "brakes")];
        Assert.Equal((1L, 3L, 30_000L, 1_000L, 21_000L, 2L), (brakes.Lines, brakes.Units, brakes.Revenue, brakes.Discount, brakes.Cost, brakes.Returns));
        var filters = sums[new LineKey(new DateOnly(2026, 11, 3), "C-1", "D-1", "OF-10", "filters")];
        Assert.Equal((5L, 10_000L, 700L, 0L), (filters.UncostedUnits, filters.UncostedRevenue, filters.UncostedDiscount, filters.Cost));
    }

    [Fact]
    public void InvoicedEventsAndLinesWithoutACategoryAreKeptApart()
    {
        var line = new RedemptionEventLine { Sku = "K-1", Quantity = 2, UnitPrice = 500, UnitCost = 300, Discount = 100 };
        var sums = LineAnalytics.Aggregate([
            Event(RedemptionEventType.Committed, "committed", [line]),
            Event(RedemptionEventType.Invoiced, "invoiced", [line]),
        ]);

        var only = Assert.Single(sums);
        Assert.Equal("", only.Key.Category);
        Assert.Equal((1L, 2L, 600L), (only.Value.Lines, only.Value.Units, only.Value.Cost));
    }

    [Fact]
    public void MarginsCountOnlyCostedLinesAndImpactIsMinusTheNetDiscount()
    {
        var committed = LineAnalytics.Bought(Bought());
        var f = LineFigures.Bought(committed[0]) + LineFigures.Bought(committed[1]);

        var margin = MarginFigures.Of(f);

        // Costed: 3 × 10,000 revenue, 3 × 7,000 cost, 1,000 discount. The filters (10,000, 700 off) have no cost.
        Assert.Equal(30_000, margin.CostedRevenue);
        Assert.Equal(10_000, margin.UncostedRevenue);
        Assert.Equal(9_000, margin.MarginBeforeDiscount);
        Assert.Equal(8_000, margin.MarginAfterDiscount);
        Assert.Equal(8_000L * 10_000 / 29_000, margin.GrossMarginBps);
        Assert.Equal(3_000, margin.GrossMarginBeforeDiscountBps);
        Assert.Equal(-1_700, margin.MarginImpact);
    }

    [Fact]
    public void WithoutAnyCostTheMarginIsUnknownNotFull()
    {
        var margin = MarginFigures.Of(LineFigures.Bought(LineAnalytics.Bought(Bought())[1]));

        Assert.Null(margin.MarginBeforeDiscount);
        Assert.Null(margin.MarginAfterDiscount);
        Assert.Null(margin.GrossMarginBps);
        Assert.Equal(-700, margin.MarginImpact);
    }

    [Fact]
    public void ALineThatGoesBackwardsIsRefused()
    {
        var returned = Return(Bought(), 1, 1);

        Assert.Throws<ArgumentException>(() => LineAnalytics.Returned(returned, Bought()));
        Assert.Throws<ArgumentException>(() => LineAnalytics.Returned(Bought(), returned[..1]));
    }
}
