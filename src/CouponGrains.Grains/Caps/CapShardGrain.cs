using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using CouponGrains.Domain.Caps;
using CouponGrains.Grains.Storage;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Caps;

/// <summary>
/// One shard of a campaign's dealer budgets, branch quotas or customer limits: an <see cref="Escrow"/>
/// per member, loaded from the ledger (in batches, see <see cref="CapTotalsReader"/>) the first time
/// the member is seen and dropped again when idle with nothing held.
/// </summary>
/// <remarks>
/// Reentrant so that one member's first-time load does not stall the shard. What holds across the
/// await: a member's escrow is created only once its totals are loaded (concurrent first calls share
/// one load task), and every check-and-hold runs in a single turn after that, so two holds for one
/// member can never both pass a check that only one of them fits.
/// </remarks>
[GrainType("cap-shard"), Reentrant]
public sealed class CapShardGrain(RedemptionLedger ledger, TimeProvider time) : Grain, ICapShardGrain
{
    private static readonly TimeSpan s_sweepEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_idle = TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<Member>> _loading = new(StringComparer.Ordinal);
    private IGrainTimer? _sweeper;

    private string CampaignId => GrainKeys.Split(this.GetPrimaryKeyString())[0];

    private CapKind Kind => (CapKind)int.Parse(GrainKeys.Split(this.GetPrimaryKeyString())[1], System.Globalization.CultureInfo.InvariantCulture);

    private DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    public async Task<HoldStatus> TryHoldAsync(string member, string redemptionId, long amount, long limit)
    {
        var entry = await GetAsync(member);
        entry.LastUsed = UtcNow;
        if (!entry.Escrow.TryHold(redemptionId, amount, limit, UtcNow + EscrowGrain.HoldTimeout))
        {
            return HoldStatus.Exhausted;
        }

        DelayDeactivation(EscrowGrain.HoldTimeout + EscrowGrain.HoldTimeout);
        _sweeper ??= this.RegisterGrainTimer(SweepAsync, s_sweepEvery, s_sweepEvery);
        return HoldStatus.Held;
    }

    public Task ConfirmManyAsync(string[] members, string[] redemptionIds)
    {
        for (var i = 0; i < members.Length; i++)
        {
            // A member with a pending hold is never dropped, so an unknown member has nothing to confirm.
            if (_members.TryGetValue(members[i], out var entry))
            {
                entry.Escrow.Confirm(redemptionIds[i]);
            }
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string member, string redemptionId)
    {
        if (_members.TryGetValue(member, out var entry))
        {
            entry.Escrow.Release(redemptionId);
        }

        return Task.CompletedTask;
    }

    public Task RestoreAsync(string member, string redemptionId, long amount)
    {
        // A member not loaded here will read the reversal from the ledger when it is next loaded.
        if (_members.TryGetValue(member, out var entry))
        {
            entry.Escrow.Restore(redemptionId, amount, UtcNow);
        }

        return Task.CompletedTask;
    }

    public async Task<CapUsage> GetUsageAsync(string member)
    {
        var entry = await GetAsync(member);
        return new CapUsage(entry.Escrow.Used, entry.Escrow.Held);
    }

    private ValueTask<Member> GetAsync(string member)
    {
        if (_members.TryGetValue(member, out var known))
        {
            return ValueTask.FromResult(known);
        }

        if (!_loading.TryGetValue(member, out var load))
        {
            load = LoadAsync(member);
            _loading[member] = load;
        }

        return new ValueTask<Member>(load);
    }

    private async Task<Member> LoadAsync(string member)
    {
        try
        {
            var totals = Kind switch
            {
                CapKind.DealerAmount => await ledger.TotalsAsync(CapScope.Dealer, CampaignId, member),
                CapKind.BranchCount => await ledger.TotalsAsync(CapScope.Branch, CampaignId,
                    member[..member.IndexOf(GrainKeys.Separator)], member[(member.IndexOf(GrainKeys.Separator) + 1)..]),
                _ => await ledger.TotalsAsync(CapScope.Customer, CampaignId, member),
            };
            var entry = new Member(new Escrow()) { LastUsed = UtcNow };
            entry.Escrow.Load(Kind == CapKind.DealerAmount ? totals.Amount : totals.Count, totals.Count, totals.RecentlyReversed, UtcNow);
            _members[member] = entry;
            return entry;
        }
        finally
        {
            _loading.Remove(member);
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        // Decide in one turn, then await: other calls interleave during the awaits and may add members.
        var now = UtcNow;
        var pending = new List<Escrow>();
        foreach (var (id, entry) in _members)
        {
            if (entry.Escrow.PendingHolds > 0)
            {
                pending.Add(entry.Escrow);
            }
            else if (entry.LastUsed < now - s_idle)
            {
                _members.Remove(id);
            }
        }

        foreach (var escrow in pending)
        {
            await EscrowGrain.ResolveExpiredHoldsAsync(escrow, ledger, now);
        }

        if (_members.Count == 0)
        {
            _sweeper?.Dispose();
            _sweeper = null;
        }
    }

    private sealed class Member(Escrow escrow)
    {
        public Escrow Escrow { get; } = escrow;

        public DateTime LastUsed { get; set; }
    }
}
