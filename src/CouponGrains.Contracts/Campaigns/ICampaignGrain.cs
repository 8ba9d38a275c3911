using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using Orleans.Concurrency;

namespace CouponGrains.Contracts.Campaigns;

public enum LifecycleAction
{
    Submit,
    Approve,
    Reject,
    Pause,
    Resume,
    Close,
}

public enum CommandStatus
{
    Done,
    NotFound,
    Conflict,
    Invalid,

    /// <summary>The actor may not do this to this campaign (e.g. approve what they submitted).</summary>
    Forbidden,
}

[GenerateSerializer, Alias("campaign-command-result"), Immutable]
public sealed record CampaignCommandResult
{
    [Id(0)] public CommandStatus Status { get; init; }
    [Id(1)] public CampaignView? Campaign { get; init; }
    [Id(2)] public string? Code { get; init; }
    [Id(3)] public string? Message { get; init; }
    [Id(4)] public CampaignApprovalView? Approval { get; init; }
}

/// <summary>What the campaign answers to a hold: the discount it reserved and the caps to apply next.</summary>
[GenerateSerializer, Alias("campaign-hold"), Immutable]
public sealed record CampaignHold
{
    [Id(0)] public bool Held { get; init; }
    [Id(1)] public long Discount { get; init; }
    [Id(2)] public string Currency { get; init; } = "";
    [Id(3)] public CapsDefinition Caps { get; init; } = new();
    [Id(4)] public Rejection[] Reasons { get; init; } = [];
    /// <summary>The definition the hold was evaluated against (for the member, period and order caps).</summary>
    [Id(5)] public CampaignDefinition? Definition { get; init; }
    /// <summary>The discount split over the order's lines, in the order's line order.</summary>
    [Id(6)] public long[] LineDiscounts { get; init; } = [];
    [Id(7)] public string? WarrantyKey { get; init; }
    [Id(8)] public long EligibleValue { get; init; }
    /// <summary>The epoch of the activation that granted the hold; the ledger commits it only while that activation is current.</summary>
    [Id(9)] public long Fence { get; init; }
    /// <summary>Refused only because holds in flight fill the budget or a period cap: it may fit once they are released.</summary>
    [Id(10)] public bool Contended { get; init; }
}

[GenerateSerializer, Alias("coupon-issue-request"), Immutable]
public sealed record CouponIssueRequest
{
    [Id(0)] public int Count { get; init; }
    [Id(1)] public string? Prefix { get; init; }
    [Id(2)] public string? NamedCode { get; init; }
    [Id(3)] public string? DealerId { get; init; }
    [Id(4)] public int? MaxUses { get; init; }
    [Id(5)] public DateTimeOffset? ExpiresAt { get; init; }
}

[GenerateSerializer, Alias("coupon-issue-result"), Immutable]
public sealed record CouponIssueResult
{
    [Id(0)] public CommandStatus Status { get; init; }
    [Id(1)] public string[] Codes { get; init; } = [];
    [Id(2)] public string? Code { get; init; }
    [Id(3)] public string? Message { get; init; }
}

/// <summary>
/// A campaign: its definition, lifecycle and money budget. The budget is an escrow cap like the
/// others (see <see cref="Caps.ICapShardGrain"/>): spent is derived from the ledger, holds live in memory.
/// </summary>
[Alias("campaign")]
public interface ICampaignGrain : IFencedGrain
{
    [Alias("create")]
    Task<CampaignCommandResult> CreateAsync(CampaignDefinition definition, Actor actor);

    [Alias("get")]
    Task<CampaignView?> GetAsync();

    [Alias("transition")]
    Task<CampaignCommandResult> TransitionAsync(LifecycleAction action, string? note, Actor actor);

    /// <summary>
    /// A lifecycle step with its request. Approve follows the approval chain: distinct approvers, never
    /// the campaign's creator or submitter, two (one an admin) above the configured budget threshold;
    /// the campaign turns active with the last approval required.
    /// </summary>
    [Alias("transition-with")]
    Task<CampaignCommandResult> TransitionWithAsync(LifecycleAction action, TransitionRequest request, Actor actor);

    /// <summary>Replaces the definition. Changing money terms (budget, discount, caps, margin floor) of an
    /// approved campaign sends it back to pending approval; currency and kind are fixed once submitted.</summary>
    [Alias("update")]
    Task<CampaignCommandResult> UpdateAsync(CampaignDefinition definition, Actor actor);

    [Alias("approval")]
    Task<CampaignApprovalView?> GetApprovalAsync();

    /// <summary>The finance projection, against <paramref name="catalogue"/> or, when null, the catalogue given at submit.</summary>
    [Alias("project")]
    Task<CampaignProjection?> ProjectAsync(CatalogueItem[]? catalogue);

    /// <summary>Generates and stores codes; interleaves with holds because it only reads the definition.</summary>
    [Alias("issue-coupons"), AlwaysInterleave]
    Task<CouponIssueResult> IssueCouponsAsync(CouponIssueRequest request, Actor actor);

    /// <summary>Evaluates the rules for an order and, when they pass, holds the discount against the budget.</summary>
    [Alias("hold")]
    /// <param name="approved">True when the order carries an approval the coordinator will consume before
    /// committing: an <c>approval_required</c> outcome then holds like any other.</param>
    Task<CampaignHold> TryHoldAsync(string redemptionId, OrderContext order, DealerProfile? dealer, bool approved);

    /// <summary>Evaluates the rules and the committed budget for an order (holds in flight do not refuse it); changes nothing.</summary>
    [Alias("evaluate")]
    Task<CampaignHold> EvaluateAsync(OrderContext order, DealerProfile? dealer);

    /// <summary>
    /// Confirms the holds of committed redemptions in one turn; the ledger sends it after each batch
    /// commits. One-way: a lost confirm costs only time, because the hold then expires and is resolved
    /// against the ledger, which confirms it. The ids are built for this one call and only read, so they are
    /// passed by reference within a silo (<see cref="ImmutableAttribute"/>).
    /// </summary>
    [Alias("confirm-many"), OneWay]
    Task ConfirmManyAsync([Immutable] string[] redemptionIds);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string redemptionId);

    /// <summary>
    /// Gives back what a reversal (full or a partial return) took: <paramref name="amount"/> of the budget
    /// and of the campaign's amount caps of the period the redemption was made in, and its count only when
    /// <paramref name="completes"/> (the redemption is now wholly reversed). Applied once per
    /// <paramref name="restoreId"/>.
    /// </summary>
    [Alias("restore")]
    Task RestoreAsync(string redemptionId, string restoreId, long amount, bool completes, DateTimeOffset redeemedAt);
}
