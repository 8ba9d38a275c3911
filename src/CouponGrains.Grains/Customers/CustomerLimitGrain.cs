using CouponGrains.Contracts.Caps;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Customers;

/// <summary>A customer's redemption count in one campaign.</summary>
[GrainType("customer-limit"), CollectionAgeLimit(Minutes = 5)]
public sealed class CustomerLimitGrain(RedemptionLedger ledger, TimeProvider time)
    : CountOrAmountCapGrain(ledger, time, CapScope.Customer, countsAmount: false), ICustomerLimitGrain;
