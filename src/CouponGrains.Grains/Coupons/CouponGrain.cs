using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Caps;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Coupons;

/// <summary>
/// One coupon code. Loads its row and its committed uses when activated; uses are an escrow cap
/// whose limit is the coupon's max uses (null: unlimited, e.g. a public code capped by budget).
/// A million issued coupons are rows, not activations: a grain lives while its code is in use, leaves
/// memory as soon as its last use has committed (or at once for an unknown code), and otherwise after
/// two idle minutes.
/// </summary>
[GrainType("coupon"), CollectionAgeLimit(Minutes = 2)]
public sealed class CouponGrain(CouponStore coupons, RedemptionLedger ledger, TimeProvider time)
    : EscrowGrain(ledger, time), ICouponGrain
{
    private static readonly TimeSpan s_unlimitedUsesFreshness = TimeSpan.FromSeconds(1);
    private CouponRow? _row;
    private DateTimeOffset _usesReadAt = DateTimeOffset.MinValue;

    public override Task OnActivateAsync(CancellationToken cancellationToken) => LoadAsync();

    /// <summary>Loads the row and its uses; a missing code is looked up again next time, as it may be issued meanwhile.</summary>
    private async Task LoadAsync()
    {
        if (_row is not null)
        {
            return;
        }

        var row = await coupons.FindAsync(this.GetPrimaryKeyString());
        if (row is not null)
        {
            await LoadFromLedgerAsync(() => Ledger.TotalsAsync(CapScope.Coupon, row.Code), countsAmount: false);
            _row = row;
        }
    }

    public async Task<CouponView?> GetAsync()
    {
        await LoadAsync();
        if (_row is { MaxUses: null } row && Time.GetUtcNow() - _usesReadAt > s_unlimitedUsesFreshness)
        {
            // Redemptions of an unlimited code do not pass through this grain (nothing to hold), so
            // its use count is read from the ledger, at most once a second.
            await LoadFromLedgerAsync(() => Ledger.TotalsAsync(CapScope.Coupon, row.Code), countsAmount: false);
            _usesReadAt = Time.GetUtcNow();
        }

        if (_row is null)
        {
            DeactivateOnIdle();
            return null;
        }

        return View(_row);
    }

    public async Task<CouponHoldResult> TryHoldAsync(string redemptionId, string dealerId)
    {
        await LoadAsync();
        return Hold(redemptionId, dealerId);
    }

    /// <summary>
    /// An exhausted coupon has nothing left to guard once no hold is pending: a later attempt activates
    /// it again (new fence, uses read from the ledger) and is refused. Single-use codes, the common kind,
    /// so stay in memory only from their first hold to its commit.
    /// </summary>
    protected override void OnHoldsSettled()
    {
        if (Escrow.PendingHolds == 0 && _row is { MaxUses: { } max } && Escrow.Used >= max)
        {
            DeactivateOnIdle();
        }
    }

    private CouponHoldResult Hold(string redemptionId, string dealerId)
    {
        if (_row is null)
        {
            // Guessed codes must not pile up as activations; the next attempt looks the code up again.
            DeactivateOnIdle();
            return Reject(RejectionCode.CouponNotFound, "No such coupon code.");
        }

        if (CouponRules.FirstRefusal(_row.DealerId, _row.ExpiresAt, dealerId, Time.GetUtcNow()) is { } refusal)
        {
            return new CouponHoldResult { Rejection = refusal };
        }

        if (!TryHold(redemptionId, 1, _row.MaxUses))
        {
            // Contended: the last uses are held by attempts that may still fail, so the caller may wait for them.
            return Reject(RejectionCode.CouponUsesExhausted, "This coupon has no uses left.") with
            {
                Contended = Escrow.Fit(1, _row.MaxUses) == CapFit.Held,
            };
        }

        return new CouponHoldResult { Coupon = View(_row), Fence = Fence!.Value };
    }

    private CouponView View(CouponRow row) => new()
    {
        Code = row.Code,
        CampaignId = row.CampaignId,
        DealerId = row.DealerId,
        Uses = Escrow.Used,
        MaxUses = row.MaxUses,
        ExpiresAt = row.ExpiresAt,
        Status = row.ExpiresAt is { } e && Time.GetUtcNow() >= e ? "expired"
            : row.MaxUses is { } max && Escrow.Used >= max ? "exhausted"
            : "active",
    };

    private static CouponHoldResult Reject(RejectionCode code, string message) =>
        new() { Rejection = new Rejection(code, message) };
}
