using CouponGrains.Contracts.Caps;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Quotas;

/// <summary>A branch's redemption count in one campaign.</summary>
[GrainType("branch-quota"), CollectionAgeLimit(Minutes = 10)]
public sealed class BranchQuotaGrain(RedemptionLedger ledger, TimeProvider time)
    : CountOrAmountCapGrain(ledger, time, CapScope.Branch, countsAmount: false), IBranchQuotaGrain;
