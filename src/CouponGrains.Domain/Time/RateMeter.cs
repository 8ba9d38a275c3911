namespace CouponGrains.Domain.Time;

/// <summary>
/// Events a second, measured over windows of at least <paramref name="windowMilliseconds"/>: counting is one
/// interlocked increment, and the rate is worked out again only when a reader finds the window over (under a
/// lock, a few times a second). A quiet spell ends in one long window, so the first read after it already
/// reports the low rate. Safe for many counters and readers.
/// </summary>
public sealed class RateMeter(long windowMilliseconds, long startMilliseconds)
{
    private readonly Lock _closing = new();
    private long _count;
    private long _from = startMilliseconds;
    private long _fromCount;
    private double _rate;

    public void Add() => Interlocked.Increment(ref _count);

    /// <summary>The rate over the last window that ended at or before <paramref name="nowMilliseconds"/>.</summary>
    public double PerSecond(long nowMilliseconds)
    {
        if (nowMilliseconds - Volatile.Read(ref _from) >= windowMilliseconds)
        {
            lock (_closing)
            {
                // Re-read under the lock: another reader may have closed this window meanwhile.
                var elapsed = nowMilliseconds - _from;
                if (elapsed >= windowMilliseconds)
                {
                    var count = Interlocked.Read(ref _count);
                    Volatile.Write(ref _rate, (count - _fromCount) * 1000.0 / elapsed);
                    _fromCount = count;
                    Volatile.Write(ref _from, nowMilliseconds);
                }
            }
        }

        return Volatile.Read(ref _rate);
    }
}
