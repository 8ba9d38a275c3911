using System.Collections.Concurrent;

namespace CouponGrains.Contracts;

/// <summary>
/// A concurrent map for things that are cheap to look up again (grain references, short-lived copies): past
/// <see cref="Capacity"/> distinct keys it forgets everything at once instead of tracking which entry is oldest.
/// The bound is rough under races; a forgotten entry is only built or asked for again.
/// </summary>
public sealed class BoundedMap<TKey, TValue>(int capacity, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _entries = new(comparer);
    private int _count;

    public int Capacity { get; } = capacity;

    public bool TryGetValue(TKey key, out TValue value) => _entries.TryGetValue(key, out value!);

    /// <summary>Adds or replaces; only a new key counts towards the bound, so refreshing known keys never clears them.</summary>
    public void Set(TKey key, TValue value)
    {
        if (!_entries.ContainsKey(key) && Interlocked.Increment(ref _count) > Capacity)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        _entries[key] = value;
    }

    public void Remove(TKey key) => _entries.TryRemove(key, out _);
}
