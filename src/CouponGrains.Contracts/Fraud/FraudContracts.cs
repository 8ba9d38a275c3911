using CouponGrains.Contracts.Access;

namespace CouponGrains.Contracts.Fraud;

/// <summary>The fraud rules, as their wire names.</summary>
public static class FraudFlagTypes
{
    public const string DuplicateOrder = "duplicate_order";
    public const string DuplicateInvoice = "duplicate_invoice";
    public const string Velocity = "velocity";
    public const string CodeSharing = "code_sharing";
    public const string CustomerAcrossDealers = "customer_across_dealers";

    public static readonly string[] All = [DuplicateOrder, DuplicateInvoice, Velocity, CodeSharing, CustomerAcrossDealers];
}

public static class FraudFlagStatuses
{
    public const string Open = "open";
    public const string Dismissed = "dismissed";
    public const string Confirmed = "confirmed";

    public static readonly string[] All = [Open, Dismissed, Confirmed];
}

/// <summary>A raised flag: the rule, what it is about, a 0-100 score, a reason and the evidence (JSON).</summary>
[GenerateSerializer, Alias("fraud-flag"), Immutable]
public sealed record FraudFlag
{
    [Id(0)] public long Id { get; init; }
    [Id(1)] public required string Type { get; init; }
    [Id(2)] public required string Subject { get; init; }
    [Id(3)] public string? DealerId { get; init; }
    [Id(4)] public string? CampaignId { get; init; }
    [Id(5)] public int Score { get; init; }
    [Id(6)] public required string Reason { get; init; }
    [Id(7)] public required string Evidence { get; init; }
    [Id(8)] public required string Status { get; init; }
    [Id(9)] public DateTimeOffset CreatedAt { get; init; }
    [Id(10)] public DateTimeOffset UpdatedAt { get; init; }
    [Id(11)] public string? DecidedBy { get; init; }
    [Id(12)] public DateTimeOffset? DecidedAt { get; init; }
    [Id(13)] public string? DecisionNote { get; init; }
}

[GenerateSerializer, Alias("fraud-flag-query"), Immutable]
public sealed record FraudFlagQuery
{
    [Id(0)] public string? Type { get; init; }
    [Id(1)] public string? DealerId { get; init; }
    [Id(2)] public string? CampaignId { get; init; }
    [Id(3)] public string? Status { get; init; }
    [Id(4)] public DateTimeOffset? From { get; init; }
    [Id(5)] public DateTimeOffset? To { get; init; }
    [Id(6)] public int Limit { get; init; } = 100;
    /// <summary>Keyset cursor: flags with a smaller id (newest first).</summary>
    [Id(7)] public long? BeforeId { get; init; }
}

public enum FlagDecisionStatus
{
    Done,
    NotFound,
    /// <summary>Already decided: a decision is final.</summary>
    AlreadyDecided,
}

[GenerateSerializer, Alias("flag-decision-result"), Immutable]
public sealed record FlagDecisionResult([property: Id(0)] FlagDecisionStatus Status, [property: Id(1)] FraudFlag? Flag);

public static class BlacklistKinds
{
    public const string Dealer = "dealer";
    public const string Customer = "customer";
    public const string Code = "code";

    public static readonly string[] All = [Dealer, Customer, Code];
}

[GenerateSerializer, Alias("blacklist-entry"), Immutable]
public sealed record BlacklistEntry
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public required string Value { get; init; }
    [Id(3)] public required string Reason { get; init; }
    [Id(4)] public DateTimeOffset? ExpiresAt { get; init; }
    [Id(5)] public DateTimeOffset CreatedAt { get; init; }
    [Id(6)] public string? CreatedBy { get; init; }
}

/// <summary>Fraud flags and the blacklist, for the API. A stateless worker: every silo answers locally.</summary>
[Alias("fraud")]
public interface IFraudGrain : IGrainWithIntegerKey
{
    [Alias("flags")]
    Task<FraudFlag[]> QueryFlagsAsync(FraudFlagQuery query);

    /// <summary>Dismisses or confirms an open flag, with a note; audited.</summary>
    [Alias("decide")]
    Task<FlagDecisionResult> DecideAsync(long flagId, bool confirm, string? note, Actor actor);

    /// <summary>Adds an entry; takes effect at once on this silo, within the refresh interval on others. Audited.</summary>
    [Alias("blacklist-add")]
    Task<BlacklistEntry> AddBlacklistAsync(string kind, string value, string reason, DateTimeOffset? expiresAt, Actor actor);

    /// <summary>Active (not removed, not expired) entries, optionally of one kind.</summary>
    [Alias("blacklist-list")]
    Task<BlacklistEntry[]> ListBlacklistAsync(string? kind);

    /// <summary>Removes an entry; false when there is no active entry with that id. Audited.</summary>
    [Alias("blacklist-remove")]
    Task<bool> RemoveBlacklistAsync(string id, Actor actor);
}
