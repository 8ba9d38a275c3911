namespace CouponGrains.Domain.Caps;

/// <summary>
/// The arithmetic of one cap: committed use plus holds (escrow) that are either confirmed or released.
/// A hold is granted only when <c>used + held + amount ≤ limit</c>, so no interleaving of holds,
/// confirms and releases can take the committed total past the limit. Not thread-safe: it lives
/// inside a single-threaded grain.
/// </summary>
/// <remarks>
/// A silo keeps one escrow per loaded cap member (every branch, customer and order seen in the last minutes),
/// and nearly all of them hold nothing or one redemption at a time. So the first pending hold lives in two
/// fields, a dictionary exists only while a second is pending alongside it, and restored ids get one only
/// once there are any. An idle member is an object with a few numbers, which the GC copies cheaply.
/// </remarks>
public sealed class Escrow
{
    /// <summary>
    /// How long a restored redemption id is remembered (restores arrive within seconds of a reversal).
    /// The ledger reports reversals of the same window when an escrow is loaded.
    /// </summary>
    public static readonly TimeSpan RestoreMemory = TimeSpan.FromMinutes(10);

    /// <summary>The one pending hold kept inline (null id when none).</summary>
    private string? _soleId;
    private Hold _sole;

    /// <summary>Pending holds besides the inline one; null until two are pending at once.</summary>
    private Dictionary<string, Hold>? _more;

    private Dictionary<string, DateTime>? _restored;

    /// <summary>Committed total (money in minor units, or a count).</summary>
    public long Used { get; private set; }

    /// <summary>Sum of pending holds.</summary>
    public long Held { get; private set; }

    /// <summary>Committed redemptions counted (for money caps; equal to Used for count caps).</summary>
    public long Count { get; private set; }

    public int PendingHolds => (_soleId is null ? 0 : 1) + (_more?.Count ?? 0);

    /// <summary>Sets the committed state derived from the ledger. Holds are kept.</summary>
    public void Load(long used, long count, IEnumerable<string> recentlyRestored, DateTime now)
    {
        Used = used;
        Count = count;
        _restored = null;
        foreach (var id in recentlyRestored)
        {
            (_restored ??= new(StringComparer.Ordinal))[id] = now;
        }
    }

    public bool CanFit(long amount, long? limit) => limit is null || Used + Held + amount <= limit.Value;

    /// <summary>
    /// Whether <paramref name="amount"/> fits now, fits only once pending holds are released, or cannot fit at
    /// all. A <see cref="CapFit.Held"/> answer is no refusal of the cap: the holds in flight may be released.
    /// </summary>
    public CapFit Fit(long amount, long? limit) =>
        CanFit(amount, limit) ? CapFit.Fits
        : Used + amount <= limit!.Value ? CapFit.Held
        : CapFit.Exceeded;

    /// <summary>Holds <paramref name="amount"/> for a redemption. Repeating a hold for the same id is a no-op.</summary>
    public bool TryHold(string redemptionId, long amount, long? limit, DateTime deadline)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        if (IsPending(redemptionId))
        {
            return true;
        }

        if (!CanFit(amount, limit))
        {
            return false;
        }

        if (_soleId is null)
        {
            (_soleId, _sole) = (redemptionId, new Hold(amount, deadline));
        }
        else
        {
            (_more ??= new(StringComparer.Ordinal))[redemptionId] = new Hold(amount, deadline);
        }

        Held += amount;
        return true;
    }

    private bool IsPending(string redemptionId) =>
        string.Equals(_soleId, redemptionId, StringComparison.Ordinal) || _more is not null && _more.ContainsKey(redemptionId);

    /// <summary>Takes a pending hold out; false when there is none for the id.</summary>
    private bool TryTake(string redemptionId, out Hold hold)
    {
        if (string.Equals(_soleId, redemptionId, StringComparison.Ordinal))
        {
            hold = _sole;
            (_soleId, _sole) = (null, default);
            return true;
        }

        if (_more is null || !_more.Remove(redemptionId, out hold))
        {
            hold = default;
            return false;
        }

        if (_more.Count == 0)
        {
            _more = null;
        }

        return true;
    }

    /// <summary>Turns a hold into committed use. Unknown ids (already confirmed or released) are ignored.</summary>
    public bool Confirm(string redemptionId)
    {
        if (!TryTake(redemptionId, out var hold))
        {
            return false;
        }

        Held -= hold.Amount;
        Used += hold.Amount;
        Count++;
        return true;
    }

    public bool Release(string redemptionId)
    {
        if (!TryTake(redemptionId, out var hold))
        {
            return false;
        }

        Held -= hold.Amount;
        return true;
    }

    /// <summary>
    /// Gives back what a reversal of <paramref name="redemptionId"/> took, once per
    /// <paramref name="restoreId"/> (a redemption may be given back in several partial returns). A still
    /// pending hold for the redemption means it committed and was reversed before its confirm arrived:
    /// the hold is confirmed first, then given back.
    /// </summary>
    /// <param name="countOne">False for a partial return, which gives back money but not the redemption itself.</param>
    public bool Restore(string redemptionId, string restoreId, long amount, DateTime now, bool countOne = true)
    {
        Confirm(redemptionId);
        _restored ??= new(StringComparer.Ordinal);
        if (!_restored.TryAdd(restoreId, now))
        {
            return false;
        }

        Used -= amount;
        if (countOne)
        {
            Count--;
        }

        return true;
    }

    /// <summary>Holds whose deadline passed; their redemptions must be resolved against the ledger.</summary>
    public List<string> ExpiredHolds(DateTime now)
    {
        var expired = new List<string>();
        if (_soleId is not null && _sole.Deadline <= now)
        {
            expired.Add(_soleId);
        }

        if (_more is null)
        {
            return expired;
        }

        foreach (var (id, hold) in _more)
        {
            if (hold.Deadline <= now)
            {
                expired.Add(id);
            }
        }

        return expired;
    }

    /// <summary>Forgets restored ids older than <paramref name="horizon"/> (restores arrive within seconds).</summary>
    public void ForgetRestoredBefore(DateTime horizon)
    {
        if (_restored is null)
        {
            return;
        }

        foreach (var (id, at) in _restored)
        {
            if (at < horizon)
            {
                _restored.Remove(id);
            }
        }

        if (_restored.Count == 0)
        {
            _restored = null;
        }
    }

    private readonly record struct Hold(long Amount, DateTime Deadline);
}

/// <summary>How an amount meets a cap: see <see cref="Escrow.Fit"/>.</summary>
public enum CapFit
{
    /// <summary>It fits beside every pending hold.</summary>
    Fits,

    /// <summary>It fits the committed total, not the holds in flight: it may fit once some are released.</summary>
    Held,

    /// <summary>The committed total alone leaves no room: the cap is reached.</summary>
    Exceeded,
}
