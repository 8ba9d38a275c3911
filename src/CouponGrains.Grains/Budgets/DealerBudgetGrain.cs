using CouponGrains.Contracts.Caps;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Budgets;

/// <summary>A dealer's money cap in one campaign: the sum of its committed discounts.</summary>
[GrainType("dealer-budget"), CollectionAgeLimit(Minutes = 10)]
public sealed class DealerBudgetGrain(RedemptionLedger ledger, TimeProvider time)
    : CountOrAmountCapGrain(ledger, time, CapScope.Dealer, countsAmount: true), IDealerBudgetGrain;
