using CouponGrains.Contracts.Access;

namespace CouponGrains.Contracts.Audit;

/// <summary>Entity types and actions of the audit trail, never repeated as literals.</summary>
public static class AuditNames
{
    public const string Campaign = "campaign";
    public const string Coupons = "coupons";
    public const string Dealer = "dealer";
    public const string ApiKey = "api_key";
    public const string Approval = "approval";
    public const string Redemption = "redemption";

    public const string Created = "created";
    public const string Updated = "updated";
    public const string Submitted = "submitted";
    public const string Approved = "approved";
    public const string PartiallyApproved = "partially_approved";
    public const string Rejected = "rejected";
    public const string Paused = "paused";
    public const string Resumed = "resumed";
    public const string Closed = "closed";
    public const string Issued = "issued";
    public const string Upserted = "upserted";
    public const string Revoked = "revoked";
    public const string Rotated = "rotated";
    public const string Requested = "requested";
    public const string Consumed = "consumed";
    public const string FailedCodeBlocked = "failed_code_blocked";
    /// <summary>Written by the ledger in the redemption's own statement (see RedemptionLedger).</summary>
    public const string Redeemed = "redeemed";
    public const string Reversed = "reversed";
    public const string PartiallyReturned = "partially_returned";
    public const string Invoiced = "invoiced";
}

/// <summary>
/// One audit row as written: who (<see cref="Actor"/>), what (action on an entity), why (reason code,
/// note, document references), and the state before and after as JSON text (null when not applicable).
/// </summary>
[GenerateSerializer, Alias("audit-entry"), Immutable]
public sealed record AuditEntry
{
    [Id(0)] public required string Action { get; init; }
    [Id(1)] public required string EntityType { get; init; }
    [Id(2)] public required string EntityId { get; init; }
    [Id(3)] public string? ActorKeyId { get; init; }
    [Id(4)] public string? ActorRole { get; init; }
    [Id(5)] public string? ReasonCode { get; init; }
    [Id(6)] public string? Note { get; init; }

    /// <summary>JSON (array or object) of document references, e.g. <c>["DOC-17"]</c>.</summary>
    [Id(7)] public string? Documents { get; init; }

    /// <summary>JSON of the entity before the change.</summary>
    [Id(8)] public string? Before { get; init; }

    /// <summary>JSON of the entity after the change.</summary>
    [Id(9)] public string? After { get; init; }

    public static AuditEntry For(Actor actor, string action, string entityType, string entityId) => new()
    {
        Action = action,
        EntityType = entityType,
        EntityId = entityId,
        ActorKeyId = actor.KeyId,
        ActorRole = actor.Role,
    };
}

/// <summary>An audit row as read back, with its place in the hash chain (null seq: not sealed yet).</summary>
[GenerateSerializer, Alias("audit-record"), Immutable]
public sealed record AuditRecord
{
    [Id(0)] public long Id { get; init; }
    [Id(1)] public DateTimeOffset At { get; init; }
    [Id(2)] public required AuditEntry Entry { get; init; }
    [Id(3)] public long? Seq { get; init; }
    [Id(4)] public string? Hash { get; init; }
}

/// <summary>Filters and keyset paging of an audit query: newest first, <see cref="BeforeId"/> is the cursor.</summary>
[GenerateSerializer, Alias("audit-query"), Immutable]
public sealed record AuditQuery
{
    [Id(0)] public string? EntityType { get; init; }
    [Id(1)] public string? EntityId { get; init; }
    [Id(2)] public string? ActorKeyId { get; init; }
    [Id(3)] public string? Action { get; init; }
    [Id(4)] public DateTimeOffset? From { get; init; }
    [Id(5)] public DateTimeOffset? To { get; init; }
    [Id(6)] public long? BeforeId { get; init; }
    [Id(7)] public int Limit { get; init; } = 100;
}

[GenerateSerializer, Alias("audit-page"), Immutable]
public sealed record AuditPage
{
    [Id(0)] public AuditRecord[] Items { get; init; } = [];

    /// <summary>The cursor of the next page, or null when this is the last.</summary>
    [Id(1)] public long? NextBeforeId { get; init; }
}

/// <summary>What the verifier found: the chain is intact up to <see cref="VerifiedThroughSeq"/>, or broken at <see cref="FirstBrokenSeq"/>.</summary>
[GenerateSerializer, Alias("audit-verification"), Immutable]
public sealed record AuditVerification
{
    [Id(0)] public bool Intact { get; init; }
    [Id(1)] public long Checked { get; init; }
    [Id(2)] public long VerifiedThroughSeq { get; init; }
    [Id(3)] public long? FirstBrokenSeq { get; init; }

    /// <summary><c>hash_mismatch</c> (a row's content was changed), <c>missing_row</c> (a gap in seq),
    /// <c>prev_hash_mismatch</c> or <c>head_mismatch</c> (newest sealed rows removed); null when intact.</summary>
    [Id(4)] public string? Problem { get; init; }
    [Id(5)] public long Unsealed { get; init; }
}

/// <summary>The audit trail for callers outside the silo (the API): append, query, seal and verify.</summary>
[Alias("audit")]
public interface IAuditGrain : IGrainWithIntegerKey
{
    [Alias("append")]
    Task AppendAsync(AuditEntry entry);

    [Alias("query")]
    Task<AuditPage> QueryAsync(AuditQuery query);

    /// <summary>Seals what is pending, then recomputes the whole chain.</summary>
    [Alias("verify")]
    Task<AuditVerification> VerifyAsync();
}
