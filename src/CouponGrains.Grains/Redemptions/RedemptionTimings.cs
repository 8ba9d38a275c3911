using System.Diagnostics;
using System.Diagnostics.Metrics;
using CouponGrains.Contracts;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// How long the stages of a redemption take in this silo, as histograms on the product's meter: taking the holds
/// (coupon, campaign and caps), waiting for the ledger (queue, linger, the batch's INSERT and commit), and the
/// ledger batch itself. Set beside the HTTP server's own request duration, they say where a slow answer spent its
/// time: in the grains, in PostgreSQL's commit, or before or after both (the thread pool, Kestrel).
/// </summary>
public sealed class RedemptionTimings
{
    /// <summary>Half a millisecond to two and a half seconds, finer where the answers are (1–50 ms).</summary>
    private static readonly double[] s_buckets =
        [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Histogram<double> _holds;
    private readonly Histogram<double> _append;
    private readonly Histogram<double> _batch;

    public RedemptionTimings(IMeterFactory meters)
    {
        var meter = meters.Create(ProductMeter.Name);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = s_buckets };
        _holds = meter.CreateHistogram("coupongrains.redemption.holds.duration", "s",
            "From a redemption attempt's start until every hold it needs is granted (coupon, campaign, caps), for attempts that reach the ledger.",
            advice: advice);
        _append = meter.CreateHistogram("coupongrains.ledger.append.duration", "s",
            "From a redemption's ledger append until its batch's outcome: the queue, the linger, the INSERT and the commit (batches whose outcome was unknown or that were not written are left out).",
            advice: advice);
        _batch = meter.CreateHistogram("coupongrains.ledger.batch.duration", "s",
            "One ledger batch's INSERT and commit, from taking a connection to the commit's answer.",
            advice: advice);
    }

    public void HoldsTaken(long startedAt) => _holds.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);

    public void Appended(long startedAt) => _append.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);

    public void BatchWritten(long startedAt) => _batch.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);
}
