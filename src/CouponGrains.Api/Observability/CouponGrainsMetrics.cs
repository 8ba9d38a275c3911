using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CouponGrains.Contracts;

namespace CouponGrains.Api.Observability;

/// <summary>
/// The product's own instruments, on the meter <see cref="MeterName"/>. Counters are recorded on the
/// request path (one increment each); everything that needs I/O is an observable instrument fed from
/// a value some background loop keeps up to date, so a scrape never touches the database or a grain.
/// </summary>
public sealed class CouponGrainsMetrics : IDisposable
{
    public const string MeterName = ProductMeter.Name;

    private readonly Meter _meter;
    private readonly Counter<long> _redemptions;
    private readonly Counter<long> _rejections;
    private readonly Histogram<double> _postgresPing;
    private readonly ConcurrentDictionary<string, long> _recentByCampaign = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _budgetRemaining = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _streamLagSeconds = new(StringComparer.Ordinal);
    private (long Rows, double OldestAgeSeconds)? _outbox;

    public CouponGrainsMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _redemptions = _meter.CreateCounter<long>("coupongrains.redemptions", "{redemption}",
            "New redemptions acknowledged with 201 (replays not counted).");
        _rejections = _meter.CreateCounter<long>("coupongrains.redemption.rejections", "{rejection}",
            "Redemption requests answered with a problem, by its stable code.");
        _postgresPing = _meter.CreateHistogram<double>("coupongrains.postgres.ping.duration", "s",
            "Round trip of a SELECT 1 on the product's connection pool, sampled periodically.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _meter.CreateObservableGauge("coupongrains.campaign.budget.remaining",
            () => _budgetRemaining.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("campaign", p.Key))),
            "{minor_unit}", "Remaining budget of the most active campaigns, sampled periodically.");
        _meter.CreateObservableGauge("coupongrains.outbox.backlog",
            () => _outbox is { } o ? [new Measurement<long>(o.Rows)] : Array.Empty<Measurement<long>>(),
            "{event}", "Outbox rows not yet handed to every consumer (the span of their sequence numbers, an upper bound).");
        _meter.CreateObservableGauge("coupongrains.outbox.oldest.age",
            () => _outbox is { } o ? [new Measurement<double>(o.OldestAgeSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest outbox row: how far the event pipeline lags the ledger.");
        _meter.CreateObservableGauge("coupongrains.stream.lag",
            () => _streamLagSeconds.Select(p => new Measurement<double>(p.Value, new KeyValuePair<string, object?>("stream", p.Key))),
            "s", "Lag reported by the event pipeline per stream or consumer (see ReportStreamLag).");
    }

    public void RedemptionCreated(string campaignId)
    {
        _redemptions.Add(1);
        _recentByCampaign.AddOrUpdate(campaignId, 1, static (_, n) => n + 1);
    }

    public void RedemptionRejected(string code) =>
        _rejections.Add(1, new KeyValuePair<string, object?>("code", code));

    public void PostgresPing(TimeSpan elapsed) => _postgresPing.Record(elapsed.TotalSeconds);

    public void OutboxBacklog(long rows, TimeSpan oldestAge) => _outbox = (rows, Math.Max(0, oldestAge.TotalSeconds));

    /// <summary>The hook for the event pipeline: report how far a stream or consumer is behind.</summary>
    public void ReportStreamLag(string stream, TimeSpan lag) => _streamLagSeconds[stream] = Math.Max(0, lag.TotalSeconds);

    public void BudgetRemaining(string campaignId, long remaining) => _budgetRemaining[campaignId] = remaining;

    /// <summary>
    /// The <paramref name="count"/> campaigns with the most redemptions since the last call, most first.
    /// Campaigns that went quiet drop out of the budget gauge, so its series stay few.
    /// </summary>
    public IReadOnlyList<string> TakeMostActiveCampaigns(int count)
    {
        var snapshot = new List<KeyValuePair<string, long>>();
        foreach (var key in _recentByCampaign.Keys)
        {
            if (_recentByCampaign.TryRemove(key, out var n))
            {
                snapshot.Add(new(key, n));
            }
        }

        var top = snapshot.OrderByDescending(p => p.Value).Take(count).Select(p => p.Key).ToList();
        foreach (var stale in _budgetRemaining.Keys.Except(top))
        {
            _budgetRemaining.TryRemove(stale, out _);
        }

        return top;
    }

    /// <summary>Registers an observable counter read from a running total (e.g. the ledger's batch statistics).</summary>
    public void ObserveTotal(string name, string unit, string description, Func<long> read) =>
        _meter.CreateObservableCounter(name, read, unit, description);

    /// <summary>Registers an observable gauge read from a current value (e.g. redemptions awaiting resolution).</summary>
    public void ObserveCurrent(string name, string unit, string description, Func<long> read) =>
        _meter.CreateObservableGauge(name, read, unit, description);

    public void Dispose() => _meter.Dispose();
}
