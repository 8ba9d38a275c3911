using CouponGrains.Contracts.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Caps;

/// <summary>A cap over one slice of the ledger (a dealer, branch or customer in a campaign).</summary>
public abstract class CountOrAmountCapGrain(RedemptionLedger ledger, TimeProvider time, CapScope scope, bool countsAmount)
    : EscrowGrain(ledger, time), ICapGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var parts = Contracts.GrainKeys.Split(this.GetPrimaryKeyString());
        await LoadFromLedgerAsync(
            () => Ledger.TotalsAsync(scope, parts[0], parts.Length > 1 ? parts[1] : null, parts.Length > 2 ? parts[2] : null),
            countsAmount);
    }

    public Task<HoldStatus> TryHoldAsync(string redemptionId, long amount, long limit) =>
        Task.FromResult(TryHold(redemptionId, amount, limit) ? HoldStatus.Held : HoldStatus.Exhausted);

    public Task<CapUsage> GetUsageAsync() => Task.FromResult(new CapUsage(Escrow.Used, Escrow.Held));
}
