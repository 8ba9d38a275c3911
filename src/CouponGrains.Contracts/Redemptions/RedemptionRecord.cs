namespace CouponGrains.Contracts.Redemptions;

public static class RedemptionStatuses
{
    public const string Committed = "committed";
    public const string Reversed = "reversed";
    public const string PartiallyReversed = "partially_reversed";
}

/// <summary>A committed redemption as stored in the ledger and returned by the API.</summary>
[GenerateSerializer, Alias("redemption-record"), Immutable]
public sealed record RedemptionRecord
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Code { get; init; }
    [Id(2)] public required string CampaignId { get; init; }
    [Id(3)] public required string DealerId { get; init; }
    [Id(4)] public string? BranchId { get; init; }
    [Id(5)] public string? OrderId { get; init; }
    [Id(6)] public string? CustomerId { get; init; }
    [Id(7)] public long Discount { get; init; }
    [Id(8)] public required string Currency { get; init; }
    [Id(9)] public required string Status { get; init; }
    [Id(10)] public DateTimeOffset RedeemedAt { get; init; }
    [Id(11)] public string? InvoiceNumber { get; init; }
    [Id(12)] public DateOnly? InvoiceDate { get; init; }
    [Id(13)] public string? DeliveryProofRef { get; init; }
    [Id(14)] public DateTimeOffset? ReversedAt { get; init; }
    [Id(15)] public string? ReversalReason { get; init; }
    [Id(16)] public long ReversedDiscount { get; init; }

    /// <summary>The discounted lines: how the discount splits over the order's lines, and what was returned.</summary>
    [Id(17)] public RedemptionLine[] Lines { get; init; } = [];

    /// <summary>Σ quantity × unit price over the eligible lines (a retro rebate's purchase), minor units.</summary>
    [Id(18)] public long EligibleValue { get; init; }

    /// <summary>For a warranty coupon: the serial number or job card it was used on.</summary>
    [Id(19)] public string? WarrantyKey { get; init; }

    /// <summary>True when the campaign was exclusive: no other code may be applied on the same order.</summary>
    [Id(20)] public bool Exclusive { get; init; }

    /// <summary>How many reversals it has had: partial returns and the one that completed it.</summary>
    [Id(21)] public int Reversals { get; init; }
}

/// <summary>One discounted order line of a redemption.</summary>
[GenerateSerializer, Alias("redemption-line"), Immutable]
public sealed record RedemptionLine
{
    /// <summary>The line's position in the order as sent (0-based).</summary>
    [Id(0)] public int Line { get; init; }
    [Id(1)] public required string Sku { get; init; }
    [Id(2)] public long Quantity { get; init; }
    /// <summary>This line's share of the discount; the shares sum exactly to the redemption's discount.</summary>
    [Id(3)] public long Discount { get; init; }
    [Id(4)] public long ReturnedQuantity { get; init; }
    /// <summary>Discount given back by partial returns of this line so far.</summary>
    [Id(5)] public long RestoredDiscount { get; init; }
    /// <summary>The order line's category as sent; null when it named none.</summary>
    [Id(6)] public string? Category { get; init; }
    /// <summary>Minor units per unit, as on the order line.</summary>
    [Id(7)] public long UnitPrice { get; init; }
    /// <summary>Minor units per unit, as on the order line; null when the order did not say (its margin is unknown).</summary>
    [Id(8)] public long? UnitCost { get; init; }
}

public enum RedeemStatus
{
    /// <summary>Committed now by this request.</summary>
    Created,
    /// <summary>The same idempotency key and body were committed before; the original is returned.</summary>
    Replayed,
    /// <summary>A rule or cap refused it; nothing is held.</summary>
    Rejected,
    /// <summary>The key was used before with a different body.</summary>
    KeyReused,
    /// <summary>The ledger could not confirm the commit; retry with the same key resolves it.</summary>
    Unavailable,
    /// <summary>
    /// A cap (named by the rejection) had room in its committed total, but redemptions in flight held it for
    /// as long as the coordinator waited; nothing is held, and a retry with the same key may fit.
    /// </summary>
    Contended,
}

/// <summary>The answer to a redemption attempt: exactly one of Redemption or Rejection is set (or neither).</summary>
[GenerateSerializer, Alias("redeem-result"), Immutable]
public sealed record RedeemResult
{
    [Id(0)] public RedeemStatus Status { get; init; }
    [Id(1)] public RedemptionRecord? Redemption { get; init; }
    [Id(2)] public Rejection? Rejection { get; init; }
    /// <summary>With an <c>approval_required</c> rejection: the approval request opened for this order.</summary>
    [Id(3)] public string? ApprovalId { get; init; }

    public static RedeemResult Rejected(RejectionCode code, string message) =>
        new() { Status = RedeemStatus.Rejected, Rejection = new Rejection(code, message) };
}

/// <summary>The answer to a dry-run validation: every failing reason, not just the first.</summary>
[GenerateSerializer, Alias("validation-result"), Immutable]
public sealed record ValidationResult
{
    [Id(0)] public bool Valid { get; init; }
    [Id(1)] public long Discount { get; init; }
    [Id(2)] public string? Currency { get; init; }
    [Id(3)] public Rejection[] Reasons { get; init; } = [];
    [Id(4)] public string? CampaignId { get; init; }
    /// <summary>The discount split over the order's lines, in the order's line order.</summary>
    [Id(5)] public long[] LineDiscounts { get; init; } = [];
    /// <summary>The code validated (set by qualification, which picks the codes itself).</summary>
    [Id(6)] public string? Code { get; init; }
}

public enum ChangeStatus
{
    Done,
    NotFound,
    Conflict,
    /// <summary>The change does not fit the redemption (e.g. returning more than was bought); Code names the field.</summary>
    Invalid,
}

/// <summary>The result of a change to an existing redemption (reversal, invoice mapping).</summary>
[GenerateSerializer, Alias("redemption-change"), Immutable]
public sealed record RedemptionChange
{
    [Id(0)] public ChangeStatus Status { get; init; }
    [Id(1)] public RedemptionRecord? Redemption { get; init; }
    [Id(2)] public string? Code { get; init; }
    [Id(3)] public string? Message { get; init; }
}

[GenerateSerializer, Alias("invoice-mapping"), Immutable]
public sealed record InvoiceMapping
{
    [Id(0)] public required string InvoiceNumber { get; init; }
    [Id(1)] public required DateOnly InvoiceDate { get; init; }
    [Id(2)] public string? DeliveryProofRef { get; init; }
}
