using System.Globalization;

namespace CouponGrains.Domain.Time;

/// <summary>The calendar periods per-period caps reset on.</summary>
public enum PeriodUnit
{
    Day,
    Week,
    Month,
}

/// <summary>
/// One calendar period in a time zone: its key and the UTC instants [StartUtc, EndUtc) it covers.
/// </summary>
/// <param name="Key">"2026-03-29" for a day, "2026-W13" for an ISO week, "2026-03" for a month.</param>
public readonly record struct CalendarPeriod(string Key, DateTimeOffset StartUtc, DateTimeOffset EndUtc)
{
    /// <summary>How long the period really lasts: 23 or 25 hours on a DST changeover day.</summary>
    public TimeSpan Length => EndUtc - StartUtc;

    /// <summary>True when <paramref name="instant"/> falls in [StartUtc, EndUtc).</summary>
    public bool Contains(DateTimeOffset instant) => instant >= StartUtc && instant < EndUtc;
}

/// <summary>
/// Days, ISO weeks (Monday start) and months in a campaign's time zone as UTC intervals, DST-safe:
/// a period starts at the first instant the zone's wall clock reads its first midnight (moved to the
/// end of a DST gap when midnight is skipped) and ends where the next one starts, so a day is 23 h or
/// 25 h long on changeover days and consecutive periods tile time with no gap or overlap.
/// </summary>
public static class PeriodCalendar
{
    /// <summary>Parses <c>day</c>, <c>week</c> or <c>month</c>.</summary>
    /// <exception cref="ArgumentException">Anything else (validation rejects it earlier).</exception>
    public static PeriodUnit Parse(string period) => period switch
    {
        Contracts.Campaigns.PeriodCapTerms.Day => PeriodUnit.Day,
        Contracts.Campaigns.PeriodCapTerms.Week => PeriodUnit.Week,
        Contracts.Campaigns.PeriodCapTerms.Month => PeriodUnit.Month,
        _ => throw new ArgumentException($"Unknown period '{period}'.", nameof(period)),
    };

    /// <summary>The <paramref name="unit"/> of <paramref name="zone"/>'s calendar that contains <paramref name="instant"/>.</summary>
    public static CalendarPeriod Find(PeriodUnit unit, TimeZoneInfo zone, DateTimeOffset instant)
    {
        ArgumentNullException.ThrowIfNull(zone);

        var date = ZoneClock.WallClock(instant, zone).Date;
        DateTime first, next;
        string key;
        switch (unit)
        {
            case PeriodUnit.Day:
                first = date;
                next = date.AddDays(1);
                key = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                break;
            case PeriodUnit.Week:
                first = date.AddDays(-(((int)date.DayOfWeek + 6) % 7));
                next = first.AddDays(7);
                key = string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(date):D4}-W{ISOWeek.GetWeekOfYear(date):D2}");
                break;
            case PeriodUnit.Month:
                first = new DateTime(date.Year, date.Month, 1);
                next = first.AddMonths(1);
                key = date.ToString("yyyy-MM", CultureInfo.InvariantCulture);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(unit), unit, null);
        }

        return new CalendarPeriod(
            key, ZoneClock.ToUtc(first, zone, laterOccurrence: false), ZoneClock.ToUtc(next, zone, laterOccurrence: false));
    }
}
