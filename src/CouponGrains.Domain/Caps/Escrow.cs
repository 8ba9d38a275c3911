namespace CouponGrains.Domain.Caps;

/// <summary>
/// The arithmetic of one cap: committed use plus holds (escrow) that are either confirmed or released.
/// A hold is granted only when <c>used + held + amount ≤ limit</c>, so no interleaving of holds,
/// confirms and releases can take the committed total past the limit. Not thread-safe: it lives
/// inside a single-threaded grain.
/// </summary>
public sealed class Escrow
{
    /// <summary>
    /// How long a restored redemption id is remembered (restores arrive within seconds of a reversal).
    /// The ledger reports reversals of the same window when an escrow is loaded.
    /// </summary>
    public static readonly TimeSpan RestoreMemory = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, Hold> _holds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _restored = new(StringComparer.Ordinal);

    /// <summary>Committed total (money in minor units, or a count).</summary>
    public long Used { get; private set; }

    /// <summary>Sum of pending holds.</summary>
    public long Held { get; private set; }

    /// <summary>Committed redemptions counted (for money caps; equal to Used for count caps).</summary>
    public long Count { get; private set; }

    public int PendingHolds => _holds.Count;

    /// <summary>Sets the committed state derived from the ledger. Holds are kept.</summary>
    public void Load(long used, long count, IEnumerable<string> recentlyRestored, DateTime now)
    {
        Used = used;
        Count = count;
        _restored.Clear();
        foreach (var id in recentlyRestored)
        {
            _restored[id] = now;
        }
    }

    /// <summary>The ids of the pending holds.</summary>
    public IReadOnlyCollection<string> PendingIds => _holds.Keys;

    public bool CanFit(long amount, long? limit) => limit is null || Used + Held + amount <= limit.Value;

    /// <summary>Holds <paramref name="amount"/> for a redemption. Repeating a hold for the same id is a no-op.</summary>
    public bool TryHold(string redemptionId, long amount, long? limit, DateTime deadline)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        if (_holds.ContainsKey(redemptionId))
        {
            return true;
        }

        if (!CanFit(amount, limit))
        {
            return false;
        }

        _holds[redemptionId] = new Hold(amount, deadline);
        Held += amount;
        return true;
    }

    /// <summary>Turns a hold into committed use. Unknown ids (already confirmed or released) are ignored.</summary>
    public bool Confirm(string redemptionId)
    {
        if (!_holds.Remove(redemptionId, out var hold))
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
        if (!_holds.Remove(redemptionId, out var hold))
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
        if (_restored.ContainsKey(restoreId))
        {
            return false;
        }

        _restored[restoreId] = now;
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
        foreach (var (id, hold) in _holds)
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
        if (_restored.Count == 0)
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
    }

    private readonly record struct Hold(long Amount, DateTime Deadline);
}
