using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;

namespace CouponGrains.Api.Models;

public sealed record BudgetResponse(long Total, long Spent, long Reserved, long Remaining);

public sealed record CampaignResponse(
    string Id, string Status, string Name, string Kind, string Currency,
    DateTime ValidFrom, DateTime ValidUntil, string TimeZone,
    DiscountDefinition Discount, EligibilityRules Eligibility, CapsDefinition Caps, decimal? MarginFloorPercent,
    BudgetResponse Budget, long RedemptionCount, DateTimeOffset CreatedAt, string? DecisionNote);

public sealed record CouponResponse(string Code, string CampaignId, string? DealerId, long Uses, int? MaxUses, string Status,
    DateTimeOffset? ExpiresAt);

public sealed record ReasonResponse(string Code, string Message);

public sealed record ValidationResponse(bool Valid, long Discount, string? Currency, string? CampaignId, ReasonResponse[] Reasons);

public sealed record RedemptionResponse(
    string Id, string Code, string CampaignId, string DealerId, string? BranchId, string? OrderId, string? CustomerId,
    long Discount, string Currency, string Status, DateTimeOffset RedeemedAt, string? InvoiceNumber, DateOnly? InvoiceDate,
    string? DeliveryProofRef, DateTimeOffset? ReversedAt, string? ReversalReason);

public sealed record CouponCodesResponse(string CampaignId, int Count, string[] Codes);

public sealed record ApiKeyResponse(string Id, string Key, string Name, string Role, string? DealerId);

public static class ResponseMapping
{
    public static CampaignResponse ToResponse(this CampaignView v) => new(
        v.Id, v.Status.ToWire(), v.Definition.Name, v.Definition.Kind, v.Definition.Currency,
        v.Definition.ValidFrom, v.Definition.ValidUntil, v.Definition.TimeZone,
        v.Definition.Discount, v.Definition.Eligibility, v.Definition.Caps, v.Definition.MarginFloorPercent,
        new BudgetResponse(v.Budget.Total, v.Budget.Spent, v.Budget.Reserved, v.Budget.Remaining),
        v.RedemptionCount, v.CreatedAt, v.DecisionNote);

    public static CouponResponse ToResponse(this CouponView v) =>
        new(v.Code, v.CampaignId, v.DealerId, v.Uses, v.MaxUses, v.Status, v.ExpiresAt);

    public static ValidationResponse ToResponse(this ValidationResult v) =>
        new(v.Valid, v.Discount, v.Currency, v.CampaignId, v.Reasons.Select(r => new ReasonResponse(r.Code.ToWire(), r.Message)).ToArray());

    public static RedemptionResponse ToResponse(this RedemptionRecord r) => new(
        r.Id, r.Code, r.CampaignId, r.DealerId, r.BranchId, r.OrderId, r.CustomerId, r.Discount, r.Currency, r.Status,
        r.RedeemedAt, r.InvoiceNumber, r.InvoiceDate, r.DeliveryProofRef, r.ReversedAt, r.ReversalReason);
}
