using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Api.Models;

public sealed record BudgetResponse(long Total, long Spent, long Reserved, long Remaining);

public sealed record CampaignResponse(
    string Id, string Status, string Name, string Kind, string Currency,
    DateTime ValidFrom, DateTime ValidUntil, string TimeZone,
    DiscountDefinition Discount, EligibilityRules Eligibility, CapsDefinition Caps, decimal? MarginFloorPercent,
    BudgetResponse Budget, long RedemptionCount, DateTimeOffset CreatedAt, string? DecisionNote,
    string MarginMode, string Stacking, int Priority, int? MaxCodesPerOrder, PeriodCapDefinition[] PeriodCaps,
    BundleDefinition? Bundle, WarrantyDefinition? Warranty, long? ApprovalAbove);

public sealed record CampaignApprovalResponse(
    string Status, string? CreatedBy, string? SubmittedBy, int ApprovalsRequired, CampaignApprovalEntry[] Approvals, CatalogueItem[] Catalogue);

public sealed record CouponResponse(string Code, string CampaignId, string? DealerId, long Uses, int? MaxUses, string Status,
    DateTimeOffset? ExpiresAt);

public sealed record ReasonResponse(string Code, string Message);

public sealed record LineDiscountResponse(int Line, long Discount);

public sealed record ValidationResponse(string? Code, bool Valid, long Discount, string? Currency, string? CampaignId, ReasonResponse[] Reasons,
    LineDiscountResponse[] Lines);

public sealed record StackCodeResponse(string Code, string? CampaignId, string State, long Discount, LineDiscountResponse[] Lines,
    ReasonResponse? Reason);

public sealed record StackValidationResponse(StackCodeResponse[] Codes, long TotalDiscount, string? Currency);

public sealed record RedemptionResponse(
    string Id, string Code, string CampaignId, string DealerId, string? BranchId, string? OrderId, string? CustomerId,
    long Discount, string Currency, string Status, DateTimeOffset RedeemedAt, string? InvoiceNumber, DateOnly? InvoiceDate,
    string? DeliveryProofRef, DateTimeOffset? ReversedAt, string? ReversalReason,
    long ReversedDiscount, int Reversals, RedemptionLine[] Lines, long EligibleValue, string? WarrantyKey);

public sealed record CouponCodesResponse(string CampaignId, int Count, string[] Codes);

public sealed record ApiKeyResponse(string Id, string Key, string Name, string Role, string? DealerId);

public static class ResponseMapping
{
    public static CampaignResponse ToResponse(this CampaignView v) => new(
        v.Id, v.Status.ToWire(), v.Definition.Name, v.Definition.Kind, v.Definition.Currency,
        v.Definition.ValidFrom, v.Definition.ValidUntil, v.Definition.TimeZone,
        v.Definition.Discount, v.Definition.Eligibility, v.Definition.Caps, v.Definition.MarginFloorPercent,
        new BudgetResponse(v.Budget.Total, v.Budget.Spent, v.Budget.Reserved, v.Budget.Remaining),
        v.RedemptionCount, v.CreatedAt, v.DecisionNote,
        v.Definition.MarginMode, v.Definition.Stacking, v.Definition.Priority, v.Definition.MaxCodesPerOrder, v.Definition.PeriodCaps,
        v.Definition.Bundle, v.Definition.Warranty, v.Definition.ApprovalAbove);

    public static CampaignApprovalResponse ToResponse(this CampaignApprovalView v) =>
        new(v.Status.ToWire(), v.CreatedBy, v.SubmittedBy, v.ApprovalsRequired, v.Approvals, v.Catalogue);

    public static CouponResponse ToResponse(this CouponView v) =>
        new(v.Code, v.CampaignId, v.DealerId, v.Uses, v.MaxUses, v.Status, v.ExpiresAt);

    /// <param name="dealerView">True for a dealer key, which learns nothing about codes that are not its own: another
    /// dealer's code answers exactly as an unknown one, without its campaign, discount or other reasons.</param>
    public static ValidationResponse ToResponse(this ValidationResult v, bool dealerView = false)
    {
        if (dealerView && v.Reasons.Any(r => r.Code == RejectionCode.DealerMismatch))
        {
            v = s_unknownCode with { Code = v.Code };
        }

        return new(v.Code, v.Valid, v.Discount, v.Currency, v.CampaignId,
            v.Reasons.Select(r => new ReasonResponse(r.Code.ToWire(), r.Message)).ToArray(), LineShares(v.LineDiscounts));
    }

    public static StackValidationResponse ToResponse(this StackValidation v, bool dealerView) => new(
        v.Codes.Select(c => new StackCodeResponse(c.Code, c.CampaignId, c.State, c.Discount, LineShares(c.LineDiscounts),
            c.Reason is { } r ? Reason(dealerView ? AsSeenByDealer(r) : r) : null)).ToArray(),
        v.TotalDiscount, v.Currency);

    private static ReasonResponse Reason(Rejection r) => new(r.Code.ToWire(), r.Message);

    private static readonly Rejection s_noSuchCode = new(RejectionCode.CouponNotFound, "No such coupon code.");

    /// <summary>What validating an unknown code answers (as the validator does).</summary>
    private static readonly ValidationResult s_unknownCode = new() { Reasons = [s_noSuchCode] };

    /// <summary>"Not your code" reads exactly like "no such code" to a dealer, so codes cannot be probed.</summary>
    public static Rejection AsSeenByDealer(Rejection r) => r.Code == RejectionCode.DealerMismatch ? s_noSuchCode : r;

    /// <summary>The lines that carry a share of the discount, by their position in the order.</summary>
    public static LineDiscountResponse[] LineShares(long[] lineDiscounts) =>
        lineDiscounts.Select((d, i) => new LineDiscountResponse(i, d)).Where(l => l.Discount > 0).ToArray();

    public static RedemptionResponse ToResponse(this RedemptionRecord r) => new(
        r.Id, r.Code, r.CampaignId, r.DealerId, r.BranchId, r.OrderId, r.CustomerId, r.Discount, r.Currency, r.Status,
        r.RedeemedAt, r.InvoiceNumber, r.InvoiceDate, r.DeliveryProofRef, r.ReversedAt, r.ReversalReason,
        r.ReversedDiscount, r.Reversals, r.Lines, r.EligibleValue, r.WarrantyKey);
}
