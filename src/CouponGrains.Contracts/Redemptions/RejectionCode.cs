namespace CouponGrains.Contracts.Redemptions;

/// <summary>Why a coupon does not apply. Each maps to one stable snake_case code on the wire.</summary>
public enum RejectionCode
{
    CouponNotFound,
    CouponNotActive,
    CampaignNotActive,
    NotYetValid,
    Expired,
    NotEligible,
    MinOrderValueNotMet,
    DealerMismatch,
    CouponUsesExhausted,
    CampaignBudgetExhausted,
    DealerCapReached,
    BranchQuotaReached,
    CustomerLimitReached,
    MarginFloorBreached,
    ApprovalRequired,
    Blacklisted,
    CurrencyMismatch,
    BundleIncomplete,
    ReferenceRequired,
    SerialAlreadyUsed,
    NotCombinable,
    TooManyCodes,
    /// <summary>A per-day, per-week or per-month cap of the campaign, the dealer or the branch is reached.</summary>
    PeriodCapReached,
}

[GenerateSerializer, Alias("rejection"), Immutable]
public sealed record Rejection([property: Id(0)] RejectionCode Code, [property: Id(1)] string Message);

public static class RejectionCodes
{
    public static string ToWire(this RejectionCode code) => code switch
    {
        RejectionCode.CouponNotFound => "coupon_not_found",
        RejectionCode.CouponNotActive => "coupon_not_active",
        RejectionCode.CampaignNotActive => "campaign_not_active",
        RejectionCode.NotYetValid => "not_yet_valid",
        RejectionCode.Expired => "expired",
        RejectionCode.NotEligible => "not_eligible",
        RejectionCode.MinOrderValueNotMet => "min_order_value_not_met",
        RejectionCode.DealerMismatch => "dealer_mismatch",
        RejectionCode.CouponUsesExhausted => "coupon_uses_exhausted",
        RejectionCode.CampaignBudgetExhausted => "campaign_budget_exhausted",
        RejectionCode.DealerCapReached => "dealer_cap_reached",
        RejectionCode.BranchQuotaReached => "branch_quota_reached",
        RejectionCode.CustomerLimitReached => "customer_limit_reached",
        RejectionCode.MarginFloorBreached => "margin_floor_breached",
        RejectionCode.ApprovalRequired => "approval_required",
        RejectionCode.Blacklisted => "blacklisted",
        RejectionCode.CurrencyMismatch => "currency_mismatch",
        RejectionCode.BundleIncomplete => "bundle_incomplete",
        RejectionCode.ReferenceRequired => "reference_required",
        RejectionCode.SerialAlreadyUsed => "serial_already_used",
        RejectionCode.NotCombinable => "not_combinable",
        RejectionCode.TooManyCodes => "too_many_codes",
        RejectionCode.PeriodCapReached => "period_cap_reached",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };

    /// <summary>The HTTP status the spec gives a rejection: 404 unknown, 409 exhausted cap, 422 ineligible.</summary>
    public static int HttpStatus(this RejectionCode code) => code switch
    {
        RejectionCode.CouponNotFound => 404,
        RejectionCode.CouponUsesExhausted or RejectionCode.CampaignBudgetExhausted or RejectionCode.DealerCapReached
            or RejectionCode.BranchQuotaReached or RejectionCode.CustomerLimitReached
            or RejectionCode.SerialAlreadyUsed or RejectionCode.PeriodCapReached => 409,
        _ => 422,
    };
}
