using CouponGrains.Domain.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Caps;

/// <summary>
/// Base of every grain that guards a cap with an <see cref="Escrow"/>: the committed total comes from
/// the ledger at activation, holds live in memory and expire. An expired hold is resolved against the
/// ledger (see <see cref="RedemptionLedger.ResolveAsync"/>): confirmed if its redemption committed,
/// otherwise tombstoned and released, so a crashed coordinator never leaves a cap held forever.
/// </summary>
public abstract class EscrowGrain(RedemptionLedger ledger, TimeProvider time) : Grain
{
    /// <summary>How long a hold may wait for its redemption's commit before it is resolved.</summary>
    public static readonly TimeSpan HoldTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_sweepEvery = TimeSpan.FromSeconds(5);
    private IGrainTimer? _sweeper;

    protected Escrow Escrow { get; } = new();

    protected RedemptionLedger Ledger { get; } = ledger;

    protected TimeProvider Time { get; } = time;

    protected DateTime UtcNow => Time.GetUtcNow().UtcDateTime;

    /// <summary>This activation's epoch in hold_fences, taken before its first read of the ledger; null until then.</summary>
    protected long? Fence { get; private set; }

    /// <summary>
    /// Takes this activation's fence (once), then loads the committed totals of this cap from the ledger.
    /// Holds of a previous activation (on a silo that stopped or died) can no longer commit once the
    /// fence is taken, and those that did are in the totals, so the totals are exact from the start.
    /// </summary>
    protected async Task LoadFromLedgerAsync(Func<Task<LedgerTotals>> load, bool countsAmount)
    {
        await EnsureFenceAsync();
        var totals = await load();
        Escrow.Load(countsAmount ? totals.Amount : totals.Count, totals.Count, totals.RecentlyReversed, UtcNow);
    }

    /// <summary>Takes this activation's fence if it has none yet: needed before the first hold is granted.</summary>
    protected async Task EnsureFenceAsync() => Fence ??= await Ledger.FenceAsync(this.GetGrainId().ToString());

    /// <summary>See <see cref="Contracts.Caps.IFencedGrain.CheckFenceAsync"/>.</summary>
    public async Task CheckFenceAsync(long epoch)
    {
        if (Fence == epoch && await Ledger.IsSupersededAsync(this.GetGrainId().ToString(), epoch))
        {
            DeactivateOnIdle();
        }
    }

    protected bool TryHold(string redemptionId, long amount, long? limit)
    {
        if (!Escrow.TryHold(redemptionId, amount, limit, UtcNow + HoldTimeout))
        {
            return false;
        }

        // A pending hold is not in the ledger yet: this activation must outlive it, or a new one
        // would take the fence and the redemption could no longer commit.
        DelayDeactivation(HoldTimeout + HoldTimeout);
        _sweeper ??= this.RegisterGrainTimer(SweepAsync, s_sweepEvery, s_sweepEvery);
        return true;
    }

    public Task ConfirmManyAsync(string[] redemptionIds)
    {
        foreach (var id in redemptionIds)
        {
            Escrow.Confirm(id);
        }

        foreach (var other in OtherEscrows)
        {
            foreach (var id in redemptionIds)
            {
                other.Confirm(id);
            }
        }

        OnHoldsSettled();
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string redemptionId)
    {
        Escrow.Release(redemptionId);
        foreach (var other in OtherEscrows)
        {
            other.Release(redemptionId);
        }

        OnHoldsSettled();
        return Task.CompletedTask;
    }

    /// <summary>Called after holds were confirmed, released or resolved; a grain with nothing left to guard may leave memory.</summary>
    protected virtual void OnHoldsSettled()
    {
    }

    public Task RestoreAsync(string redemptionId, string restoreId, long amount)
    {
        Escrow.Restore(redemptionId, restoreId, amount, UtcNow);
        return Task.CompletedTask;
    }

    /// <summary>Escrows besides <see cref="Escrow"/> whose expired holds the sweeper resolves too.</summary>
    protected virtual IEnumerable<Escrow> OtherEscrows => [];

    /// <summary>Resolves every expired hold of an escrow against the ledger: confirmed if it committed, else released.</summary>
    public static async Task ResolveExpiredHoldsAsync(Escrow escrow, RedemptionLedger ledger, DateTime now)
    {
        foreach (var id in escrow.ExpiredHolds(now))
        {
            if (await ledger.ResolveAsync(id))
            {
                escrow.Confirm(id);
            }
            else
            {
                escrow.Release(id);
            }
        }

        escrow.ForgetRestoredBefore(now - Escrow.RestoreMemory);
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        await ResolveExpiredHoldsAsync(Escrow, Ledger, UtcNow);
        var pending = Escrow.PendingHolds;
        foreach (var other in OtherEscrows.ToList())
        {
            await ResolveExpiredHoldsAsync(other, Ledger, UtcNow);
            pending += other.PendingHolds;
        }

        if (pending == 0)
        {
            _sweeper?.Dispose();
            _sweeper = null;
            OnHoldsSettled();
        }
    }
}
