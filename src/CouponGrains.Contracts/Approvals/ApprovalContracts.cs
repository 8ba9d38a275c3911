using CouponGrains.Contracts.Access;

namespace CouponGrains.Contracts.Approvals;

/// <summary>Why an order-time discount needs a person's approval.</summary>
public static class ApprovalReasons
{
    public const string Goodwill = "goodwill";
    public const string HighValue = "high_value";
    public const string Margin = "margin";
    public const string Exception = "exception";

    public static readonly string[] All = [Goodwill, HighValue, Margin, Exception];

    public static bool IsKnown(string? reason) => reason is not null && Array.IndexOf(All, reason) >= 0;
}

/// <summary>An approval's status on the wire. <c>expired</c> is derived: pending or approved past its expiry.</summary>
public static class ApprovalStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Consumed = "consumed";
    public const string Expired = "expired";

    public static readonly string[] All = [Pending, Approved, Rejected, Consumed, Expired];

    public static bool IsKnown(string? status) => status is not null && Array.IndexOf(All, status) >= 0;
}

/// <summary>
/// What the redemption path asks an approver to allow: this discount for this dealer's order. The
/// order is identified by a hash of its context, so the approval can only be used for that order.
/// </summary>
[GenerateSerializer, Alias("approval-request"), Immutable]
public sealed record ApprovalRequest
{
    [Id(0)] public required string DealerId { get; init; }
    [Id(1)] public required string OrderHash { get; init; }

    /// <summary>The discount to approve, minor units.</summary>
    [Id(2)] public required long Amount { get; init; }
    [Id(3)] public string? Currency { get; init; }
    [Id(4)] public string? CampaignId { get; init; }
    [Id(5)] public string? Code { get; init; }

    /// <summary>One of <see cref="ApprovalReasons"/>.</summary>
    [Id(6)] public required string Reason { get; init; }
    [Id(7)] public string? Note { get; init; }

    /// <summary>When the request lapses; null (or later than the configured expiry allows) means the configured expiry.</summary>
    [Id(8)] public DateTimeOffset? ExpiresAt { get; init; }
}

[GenerateSerializer, Alias("approval-view"), Immutable]
public sealed record ApprovalView
{
    [Id(0)] public required string Id { get; init; }

    /// <summary>One of <see cref="ApprovalStatuses"/>.</summary>
    [Id(1)] public required string Status { get; init; }
    [Id(2)] public required string DealerId { get; init; }
    [Id(3)] public required string OrderHash { get; init; }
    [Id(4)] public long Amount { get; init; }
    [Id(5)] public string? Currency { get; init; }
    [Id(6)] public string? CampaignId { get; init; }
    [Id(7)] public string? Code { get; init; }
    [Id(8)] public required string Reason { get; init; }
    [Id(9)] public string? Note { get; init; }
    [Id(10)] public string? RequestedBy { get; init; }
    [Id(11)] public DateTimeOffset RequestedAt { get; init; }
    [Id(12)] public DateTimeOffset ExpiresAt { get; init; }
    [Id(13)] public string? DecidedBy { get; init; }
    [Id(14)] public string? DecidedRole { get; init; }
    [Id(15)] public DateTimeOffset? DecidedAt { get; init; }
    [Id(16)] public string? DecisionCode { get; init; }
    [Id(17)] public string? DecisionNote { get; init; }
    [Id(18)] public DateTimeOffset? ConsumedAt { get; init; }
}

public enum ApprovalDecision
{
    Approve,
    Reject,
}

public enum ApprovalDecisionStatus
{
    Done,
    NotFound,

    /// <summary>Decided already (approved, rejected or consumed).</summary>
    AlreadyDecided,
    Expired,

    /// <summary>The amount is above what the decider's role may approve.</summary>
    AboveLimit,

    /// <summary>The decider raised the request.</summary>
    OwnRequest,
}

[GenerateSerializer, Alias("approval-decision-result"), Immutable]
public sealed record ApprovalDecisionResult
{
    [Id(0)] public ApprovalDecisionStatus Status { get; init; }
    [Id(1)] public ApprovalView? Approval { get; init; }

    /// <summary>For <see cref="ApprovalDecisionStatus.AboveLimit"/>: the most the role may approve.</summary>
    [Id(2)] public long? Limit { get; init; }
}

public enum ApprovalConsumeStatus
{
    Consumed,
    NotFound,

    /// <summary>Still pending, or rejected.</summary>
    NotApproved,
    Expired,

    /// <summary>Used once already: an approval is single-use.</summary>
    AlreadyUsed,

    /// <summary>Approved for another dealer, order or amount.</summary>
    Mismatch,
}

[GenerateSerializer, Alias("approval-consume-result"), Immutable]
public sealed record ApprovalConsumeResult
{
    [Id(0)] public ApprovalConsumeStatus Status { get; init; }
    [Id(1)] public ApprovalView? Approval { get; init; }

    public bool Succeeded => Status == ApprovalConsumeStatus.Consumed;
}

/// <summary>
/// Order-time exception approvals (goodwill, high-value, margin): raised by the redemption path,
/// decided by approvers within their role's limit, consumed once by the redemption they allow.
/// Stateless; PostgreSQL is the truth, so approvals survive restarts. Key: 0.
/// </summary>
[Alias("approvals")]
public interface IApprovalGrain : IGrainWithIntegerKey
{
    [Alias("create")]
    Task<ApprovalView> CreateAsync(ApprovalRequest request, Actor actor);

    [Alias("get")]
    Task<ApprovalView?> GetAsync(string approvalId);

    /// <summary>Oldest first; <paramref name="afterId"/> is the cursor of the previous page.</summary>
    [Alias("list")]
    Task<ApprovalView[]> ListAsync(string? status, string? dealerId, int limit, string? afterId);

    [Alias("decide")]
    Task<ApprovalDecisionResult> DecideAsync(string approvalId, ApprovalDecision decision, string? reasonCode, string? note, Actor actor);

    /// <summary>Uses an approved request once, for exactly the dealer, order hash and amount it was raised for.</summary>
    [Alias("consume")]
    Task<ApprovalConsumeResult> ConsumeAsync(string approvalId, string dealerId, string orderHash, long amount);
}
