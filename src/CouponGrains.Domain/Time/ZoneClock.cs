namespace CouponGrains.Domain.Time;

/// <summary>
/// Wall-clock times in an IANA time zone turned into UTC instants, DST-safe: a time skipped by a
/// DST gap and a time that occurs twice both resolve to one well-defined instant.
/// </summary>
public static class ZoneClock
{
    /// <summary>
    /// The UTC instant at which <paramref name="zone"/>'s wall clock reads <paramref name="wallClock"/>
    /// (its <see cref="DateTime.Kind"/> is ignored).
    /// <list type="bullet">
    /// <item>A time skipped by a DST gap (e.g. 02:30 when clocks jump 02:00 → 03:00) moves forward to
    /// the end of the gap, i.e. the transition instant: the first instant whose wall clock is at or
    /// after the given time.</item>
    /// <item>A time that occurs twice (clocks falling back) takes the earlier occurrence, or the later
    /// one when <paramref name="laterOccurrence"/> is true.</item>
    /// </list>
    /// </summary>
    public static DateTimeOffset ToUtc(DateTime wallClock, TimeZoneInfo zone, bool laterOccurrence)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified);

        if (zone.IsInvalidTime(local))
        {
            return StartOfIntervalAfterGap(local, zone);
        }

        if (zone.IsAmbiguousTime(local))
        {
            // UTC = local − offset, so the larger offset gives the earlier instant.
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            var chosen = offsets[0];
            foreach (var offset in offsets)
            {
                if (laterOccurrence ? offset < chosen : offset > chosen)
                {
                    chosen = offset;
                }
            }

            return new DateTimeOffset(local, chosen).ToUniversalTime();
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>The wall-clock time <paramref name="zone"/> shows at <paramref name="instant"/>.</summary>
    public static DateTime WallClock(DateTimeOffset instant, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return TimeZoneInfo.ConvertTime(instant, zone).DateTime;
    }

    /// <summary>
    /// The first UTC instant whose wall clock in <paramref name="zone"/> is at or after a time that
    /// falls in a DST gap, which is the transition instant itself.
    /// </summary>
    private static DateTimeOffset StartOfIntervalAfterGap(DateTime local, TimeZoneInfo zone)
    {
        // Offsets lie within [−12 h, +14 h], so the instant sought is within this window; no zone has
        // two transitions that close together, so the wall clock is monotone over it and a binary
        // search over ticks finds the first instant whose wall clock reaches the given time.
        var lo = Math.Max(DateTime.MinValue.Ticks, local.Ticks - TimeSpan.FromHours(15).Ticks);
        var hi = Math.Min(DateTime.MaxValue.Ticks, local.Ticks + TimeSpan.FromHours(13).Ticks);
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            var utc = new DateTime(mid, DateTimeKind.Utc);
            var wall = utc + zone.GetUtcOffset(utc);
            if (wall >= local)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return new DateTimeOffset(lo, TimeSpan.Zero);
    }
}
