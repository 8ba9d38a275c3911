using CouponGrains.Contracts.Access;

namespace CouponGrains.Contracts.Settlement;

public static class CreditNoteLineKinds
{
    /// <summary>An invoiced redemption, credited once: its discount less what was reversed before.</summary>
    public const string Credit = "credit";
    /// <summary>A reversal after the redemption was credited: a negative amount.</summary>
    public const string Debit = "debit";
    /// <summary>An accepted (or partially accepted) claim.</summary>
    public const string Claim = "claim";
}

[GenerateSerializer, Alias("credit-note-line"), Immutable]
public sealed record CreditNoteLine
{
    [Id(0)] public int LineNo { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public string? RedemptionId { get; init; }
    [Id(3)] public string? ClaimId { get; init; }
    [Id(4)] public string? CampaignId { get; init; }
    [Id(5)] public string? InvoiceNumber { get; init; }
    /// <summary>Minor units; negative for a debit line.</summary>
    [Id(6)] public long Amount { get; init; }
    [Id(7)] public DateTimeOffset? RedeemedAt { get; init; }
    /// <summary>Order (redemption) to credit note, in seconds.</summary>
    [Id(8)] public long? SecondsToSettle { get; init; }
}

[GenerateSerializer, Alias("credit-note"), Immutable]
public sealed record CreditNote
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string DealerId { get; init; }
    [Id(2)] public required string Currency { get; init; }
    [Id(3)] public DateOnly PeriodFrom { get; init; }
    [Id(4)] public DateOnly PeriodTo { get; init; }
    [Id(5)] public long Total { get; init; }
    [Id(6)] public DateTimeOffset CreatedAt { get; init; }
    [Id(7)] public string? CreatedBy { get; init; }
    [Id(8)] public CreditNoteLine[] Lines { get; init; } = [];
}

public static class ClaimKinds
{
    public const string Goodwill = "goodwill";
    public const string Warranty = "warranty";
    public const string RetroRebate = "retro_rebate";

    public static readonly string[] All = [Goodwill, Warranty, RetroRebate];
}

public static class ClaimStatuses
{
    public const string Submitted = "submitted";
    public const string Approved = "approved";
    public const string PartiallyAccepted = "partially_accepted";
    public const string Rejected = "rejected";
}

/// <summary>Why finance rejects (or cuts) a claim.</summary>
public static class ClaimReasonCodes
{
    public static readonly string[] All =
        ["insufficient_documents", "not_eligible", "duplicate_claim", "out_of_period", "amount_not_supported", "other"];
}

/// <summary>A supporting document: where it is and its SHA-256 (hex), so it can be verified later.</summary>
[GenerateSerializer, Alias("claim-document"), Immutable]
public sealed record ClaimDocument([property: Id(0)] string Uri, [property: Id(1)] string Sha256);

[GenerateSerializer, Alias("claim-submission"), Immutable]
public sealed record ClaimSubmission
{
    [Id(0)] public required string DealerId { get; init; }
    [Id(1)] public string? CampaignId { get; init; }
    [Id(2)] public required string Kind { get; init; }
    [Id(3)] public long Amount { get; init; }
    [Id(4)] public required string Currency { get; init; }
    [Id(5)] public required string Description { get; init; }
    [Id(6)] public ClaimDocument[] Documents { get; init; } = [];
}

[GenerateSerializer, Alias("claim"), Immutable]
public sealed record Claim
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required ClaimSubmission Submission { get; init; }
    [Id(2)] public required string Status { get; init; }
    [Id(3)] public long? AcceptedAmount { get; init; }
    [Id(4)] public string? ReasonCode { get; init; }
    [Id(5)] public string? Note { get; init; }
    [Id(6)] public DateTimeOffset SubmittedAt { get; init; }
    [Id(7)] public string? SubmittedBy { get; init; }
    [Id(8)] public DateTimeOffset? DecidedAt { get; init; }
    [Id(9)] public string? DecidedBy { get; init; }
    [Id(10)] public string? CreditNoteId { get; init; }
}

public enum ClaimDecisionKind
{
    Approve,
    PartiallyAccept,
    Reject,
}

[GenerateSerializer, Alias("claim-decision"), Immutable]
public sealed record ClaimDecision
{
    [Id(0)] public ClaimDecisionKind Decision { get; init; }
    [Id(1)] public long? AcceptedAmount { get; init; }
    [Id(2)] public string? ReasonCode { get; init; }
    [Id(3)] public string? Note { get; init; }
}

public enum ClaimDecisionStatus
{
    Done,
    NotFound,
    AlreadyDecided,
}

[GenerateSerializer, Alias("claim-decision-result"), Immutable]
public sealed record ClaimDecisionResult([property: Id(0)] ClaimDecisionStatus Status, [property: Id(1)] Claim? Claim);

/// <summary>
/// Settlement: credit notes from invoiced redemptions (exactly once across runs), debit lines for
/// reversals after settlement, accepted claims; exports. One activation (key 0) so runs never overlap.
/// </summary>
[Alias("settlement")]
public interface ISettlementGrain : IGrainWithIntegerKey
{
    /// <summary>Credits every invoiced, not yet credited redemption with an invoice date in the period (delivery proof
    /// where its campaign requires one), debits reversals of credited ones, adds accepted claims; one note per dealer and currency.</summary>
    [Alias("run")]
    Task<CreditNote[]> GenerateCreditNotesAsync(string? dealerId, DateOnly periodFrom, DateOnly periodTo, Actor actor);

    [Alias("notes")]
    Task<CreditNote[]> ListCreditNotesAsync(string? dealerId, int limit);

    [Alias("note")]
    Task<CreditNote?> GetCreditNoteAsync(string id);

    /// <summary>CSV: redemption → invoice → credit note → amounts, for redemptions of the period (by redemption date).</summary>
    [Alias("reconciliation")]
    Task<string> ReconciliationCsvAsync(string? dealerId, DateOnly from, DateOnly to);

    [Alias("delivery-proof-rule")]
    Task SetDeliveryProofRequiredAsync(string campaignId, bool required, Actor actor);

    [Alias("claim-submit")]
    Task<Claim> SubmitClaimAsync(ClaimSubmission submission, Actor actor);

    [Alias("claim-get")]
    Task<Claim?> GetClaimAsync(string id);

    [Alias("claim-list")]
    Task<Claim[]> ListClaimsAsync(string? dealerId, string? status, int limit);

    [Alias("claim-decide")]
    Task<ClaimDecisionResult> DecideClaimAsync(string id, ClaimDecision decision, Actor actor);
}
