using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using CouponGrains.Domain.Caps;
using CouponGrains.Grains.Storage;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Caps;

/// <summary>
/// One shard of the per-member caps of every campaign (dealers' with their branches and orders, or
/// customers'): an
/// <see cref="Escrow"/> per <see cref="CapSlot"/>, loaded from the ledger (in batches, see <see cref="CapTotalsReader"/>) the first time
/// the member is seen and dropped again when idle with nothing held.
/// </summary>
/// <remarks>
/// Reentrant so that one member's first-time load does not stall the shard. What holds across the
/// await: a slot's escrow is created only once its totals are loaded (concurrent first calls share
/// one load task), and every check-and-hold of a call runs in a single turn after all its slots are
/// loaded, so two holds for one slot can never both pass a check that only one of them fits, and a
/// call holds either all of its slots or none.
/// </remarks>
[GrainType("cap-shard"), Reentrant]
public sealed class CapShardGrain(RedemptionLedger ledger, TimeProvider time) : Grain, ICapShardGrain
{
    private static readonly TimeSpan s_sweepEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_idle = TimeSpan.FromMinutes(5);

    /// <summary>
    /// An order's stacking slots are busy for the seconds its codes are entered and then never again:
    /// kept for minutes they were most of a hot shard's members (two per redemption), its heap and its
    /// sweeps. Now a slot is dropped as soon as its holds are committed (kept 30 s, each outlived a gen0
    /// collection and left gen1 to collect it), and a slot whose holds were released goes after this long
    /// idle. The next code on the order reads the slot from the ledger again.
    /// </summary>
    private static readonly TimeSpan s_orderIdle = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<Member>> _loading = new(StringComparer.Ordinal);
    private IGrainTimer? _sweeper;
    private long _fence;

    private DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Takes this activation's fence before any member is loaded: holds of a previous activation of this
    /// shard can no longer commit, and those that did are in the ledger when a member is read.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        _fence = await ledger.FenceAsync(this.GetGrainId().ToString());

    public async Task<CapShardHold> TryHoldAsync(string redemptionId, CapHold[] holds)
    {
        // Load every slot first (one batched ledger read for the new ones), then take them from the
        // map again and check and hold them all in one turn: no other call interleaves between the
        // checks and the holds, and a slot the sweeper dropped during an await is loaded afresh.
        var entries = new Member[holds.Length];
        while (!TryTakeLoaded(holds, static h => h.Slot, entries))
        {
            await LoadAllAsync(holds, static h => h.Slot);
        }

        var now = UtcNow;
        var contended = -1;
        for (var i = 0; i < holds.Length; i++)
        {
            switch (entries[i].Escrow.Fit(holds[i].Amount, holds[i].Limit))
            {
                case CapFit.Exceeded:
                    return new CapShardHold(i, _fence);
                case CapFit.Held when contended < 0:
                    contended = i;
                    break;
            }
        }

        if (contended >= 0)
        {
            return new CapShardHold(contended, _fence, Contended: true);
        }

        var deadline = now + EscrowGrain.HoldTimeout;
        for (var i = 0; i < holds.Length; i++)
        {
            entries[i].LastUsed = now;
            entries[i].Escrow.TryHold(redemptionId, holds[i].Amount, holds[i].Limit, deadline);
        }

        DelayDeactivation(EscrowGrain.HoldTimeout + EscrowGrain.HoldTimeout);
        _sweeper ??= this.RegisterGrainTimer(SweepAsync, s_sweepEvery, s_sweepEvery);
        return new CapShardHold(-1, _fence);
    }

    /// <summary>See <see cref="IFencedGrain.CheckFenceAsync"/>.</summary>
    public async Task CheckFenceAsync(long epoch)
    {
        if (_fence == epoch && await ledger.IsSupersededAsync(this.GetGrainId().ToString(), epoch))
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// Starts the loads of every slot not in memory before awaiting any, so the slots of one call (an
    /// order's two stacking slots, say) are read in one batch rather than one ledger round trip after another.
    /// </summary>
    private Task LoadAllAsync<T>(T[] items, Func<T, string> slotOf)
    {
        List<Task>? loads = null;
        foreach (var item in items)
        {
            var load = GetAsync(slotOf(item));
            if (!load.IsCompletedSuccessfully)
            {
                (loads ??= []).Add(load.AsTask());
            }
        }

        return loads is null ? Task.CompletedTask : Task.WhenAll(loads);
    }

    private bool TryTakeLoaded<T>(T[] items, Func<T, string> slotOf, Member[] entries)
    {
        for (var i = 0; i < items.Length; i++)
        {
            if (!_members.TryGetValue(slotOf(items[i]), out var entry))
            {
                return false;
            }

            entries[i] = entry;
        }

        return true;
    }

    public Task ConfirmManyAsync(string[] slots, string[] redemptionIds)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            // A slot with a pending hold is never dropped, so an unknown slot has nothing to confirm.
            if (_members.TryGetValue(slots[i], out var entry))
            {
                entry.Escrow.Confirm(redemptionIds[i]);
                if (entry.IsOrder && entry.Escrow.PendingHolds == 0)
                {
                    // Committed, so the ledger has it for the next code on this order (a load starts only for a slot
                    // not in memory, so none can be under way with an older read).
                    _members.Remove(slots[i]);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string redemptionId, string[] slots)
    {
        foreach (var slot in slots)
        {
            if (_members.TryGetValue(slot, out var entry))
            {
                entry.Escrow.Release(redemptionId);
            }
        }

        return Task.CompletedTask;
    }

    public Task RestoreAsync(string redemptionId, string restoreId, CapRestore[] restores, bool completes)
    {
        // A slot not loaded here will read the reversal from the ledger when it is next loaded.
        foreach (var restore in restores)
        {
            if (_members.TryGetValue(restore.Slot, out var entry))
            {
                entry.Escrow.Restore(redemptionId, restoreId, restore.Amount, UtcNow, completes);
            }
        }

        return Task.CompletedTask;
    }

    public async Task<CapUsage> GetUsageAsync(string slot)
    {
        var entry = await GetAsync(slot);
        return new CapUsage(entry.Escrow.Used, entry.Escrow.Held);
    }

    public async Task<CapUsage[]> GetUsagesAsync(string[] slots)
    {
        var entries = new Member[slots.Length];
        while (!TryTakeLoaded(slots, static s => s, entries))
        {
            await LoadAllAsync(slots, static s => s);
        }

        return Array.ConvertAll(entries, e => new CapUsage(e.Escrow.Used, e.Escrow.Held));
    }

    private ValueTask<Member> GetAsync(string slot)
    {
        if (_members.TryGetValue(slot, out var known))
        {
            return ValueTask.FromResult(known);
        }

        if (!_loading.TryGetValue(slot, out var load))
        {
            load = LoadAsync(slot);
            _loading[slot] = load;
        }

        return new ValueTask<Member>(load);
    }

    private async Task<Member> LoadAsync(string key)
    {
        try
        {
            var slot = CapSlot.Parse(key);
            var scope = slot.Kind switch
            {
                CapKind.DealerAmount or CapKind.DealerCount => CapScope.Dealer,
                CapKind.BranchCount or CapKind.BranchAmount => CapScope.Branch,
                CapKind.WarrantyUse => CapScope.Warranty,
                CapKind.OrderCodes => CapScope.Order,
                CapKind.OrderExclusive => CapScope.OrderExclusive,
                _ => CapScope.Customer,
            };
            var totals = await ledger.TotalsAsync(scope, slot.CampaignId, slot.Member, slot.Branch, slot.From, slot.To);
            var entry = new Member(new Escrow(), scope.IsOrder()) { LastUsed = UtcNow };
            entry.Escrow.Load(slot.CountsAmount ? totals.Amount : totals.Count, totals.Count, totals.RecentlyReversed, UtcNow);
            _members[key] = entry;
            return entry;
        }
        finally
        {
            _loading.Remove(key);
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
            else if (entry.LastUsed < now - entry.Idle)
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

    private sealed class Member(Escrow escrow, bool isOrder)
    {
        public Escrow Escrow { get; } = escrow;

        /// <summary>An order's stacking slot: dropped once its holds are committed, or after <see cref="s_orderIdle"/> without use.</summary>
        public bool IsOrder { get; } = isOrder;

        /// <summary>How long the member stays loaded with nothing held and no use.</summary>
        public TimeSpan Idle => IsOrder ? s_orderIdle : s_idle;

        public DateTime LastUsed { get; set; }
    }
}
