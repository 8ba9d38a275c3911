namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// How often this silo's redemptions met a cap filled only by holds in flight: each time a coordinator gave back
/// what a try held and waited to try again, and each time it stopped waiting and answered <c>cap_contended</c>.
/// Running totals, read by the metrics.
/// </summary>
public sealed class HeldCapacityWaits
{
    private long _waits;
    private long _gaveUp;

    public (long Waits, long GaveUp) Stats => (Interlocked.Read(ref _waits), Interlocked.Read(ref _gaveUp));

    public void Waited() => Interlocked.Increment(ref _waits);

    public void GaveUp() => Interlocked.Increment(ref _gaveUp);
}
