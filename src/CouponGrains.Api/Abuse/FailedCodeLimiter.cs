using System.Collections.Concurrent;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Audit;
using Microsoft.Extensions.Logging;

namespace CouponGrains.Api.Abuse;

/// <summary>Settings under <c>Abuse</c>.</summary>
public sealed class AbuseOptions
{
    public const string Section = "Abuse";

    /// <summary>How many unknown or invalid codes one key may send within the window before it is blocked; 0 disables.</summary>
    public int FailedCodeLimit { get; set; } = 20;

    /// <summary>The window, and how long a key stays blocked once it reaches the limit.</summary>
    public int FailedCodeWindowSeconds { get; set; } = 60;
}

/// <summary>
/// Stops code guessing: a key that sends <see cref="AbuseOptions.FailedCodeLimit"/> unknown or invalid
/// codes within <see cref="AbuseOptions.FailedCodeWindowSeconds"/> gets 429 on validations and
/// redemptions for one window, and the block is audited once. Each key has its own record, so one
/// dealer's guessing never blocks another. Kept in memory per API host: with several hosts a guesser
/// gets at most the limit per host per window.
/// </summary>
public sealed class FailedCodeLimiter(AbuseOptions options, TimeProvider time, IGrainFactory? grains, ILogger<FailedCodeLimiter> logger)
{
    private const int MaxTrackedKeys = 100_000;
    private readonly ConcurrentDictionary<string, Track> _tracks = new(StringComparer.Ordinal);

    private TimeSpan Window => TimeSpan.FromSeconds(Math.Max(1, options.FailedCodeWindowSeconds));

    /// <summary>True while <paramref name="keyId"/> is blocked; <paramref name="retryAfter"/> is how long it remains so.</summary>
    public bool IsBlocked(string keyId, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (options.FailedCodeLimit <= 0 || !_tracks.TryGetValue(keyId, out var track))
        {
            return false;
        }

        var now = time.GetUtcNow();
        lock (track)
        {
            if (track.BlockedUntil > now)
            {
                retryAfter = track.BlockedUntil - now;
                return true;
            }
        }

        return false;
    }

    /// <summary>Counts one unknown or invalid code sent with <paramref name="keyId"/>.</summary>
    public void RecordFailedCode(string keyId)
    {
        var limit = options.FailedCodeLimit;
        if (limit <= 0)
        {
            return;
        }

        if (_tracks.Count >= MaxTrackedKeys)
        {
            Prune();
        }

        var now = time.GetUtcNow();
        var track = _tracks.GetOrAdd(keyId, _ => new Track(limit));
        lock (track)
        {
            if (track.BlockedUntil > now)
            {
                return;
            }

            // A ring of the last `limit` failure times: the limit is reached when the oldest of them is within the window.
            track.Resize(limit);
            track.Times[track.Next] = now;
            track.Next = (track.Next + 1) % track.Times.Length;
            track.Count = Math.Min(track.Count + 1, track.Times.Length);
            if (track.Count < track.Times.Length || now - track.Times[track.Next] >= Window)
            {
                return;
            }

            track.BlockedUntil = now + Window;
            track.Count = 0;
        }

        logger.LogWarning("API key {KeyId} blocked for {Seconds} s after {Limit} failed codes", keyId, Window.TotalSeconds, limit);
        _ = AuditBlockAsync(keyId, limit);
    }

    private async Task AuditBlockAsync(string keyId, int limit)
    {
        if (grains is null)
        {
            return;
        }

        try
        {
            await grains.Ref<IAuditGrain>(0).AppendAsync(new AuditEntry
            {
                Action = AuditNames.FailedCodeBlocked,
                EntityType = AuditNames.ApiKey,
                EntityId = keyId,
                ActorKeyId = keyId,
                ReasonCode = "failed_code_limit",
                Note = $"{limit} unknown or invalid codes within {Window.TotalSeconds:0} s; blocked for {Window.TotalSeconds:0} s.",
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "Could not audit the failed-code block of {KeyId}", keyId);
        }
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, track) in _tracks)
        {
            lock (track)
            {
                var newest = track.Count == 0 ? DateTimeOffset.MinValue : track.Times[(track.Next + track.Times.Length - 1) % track.Times.Length];
                if (track.BlockedUntil <= now && now - newest >= Window)
                {
                    _tracks.TryRemove(key, out _);
                }
            }
        }
    }

    private sealed class Track(int limit)
    {
        public DateTimeOffset[] Times = new DateTimeOffset[limit];
        public int Next;
        public int Count;
        public DateTimeOffset BlockedUntil;

        public void Resize(int limit)
        {
            if (Times.Length != limit)
            {
                Times = new DateTimeOffset[limit];
                Next = 0;
                Count = 0;
            }
        }
    }
}
