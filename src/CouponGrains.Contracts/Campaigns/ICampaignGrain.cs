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
}

[GenerateSerializer, Alias("campaign-command-result"), Immutable]
public sealed record CampaignCommandResult
{
    [Id(0)] public CommandStatus Status { get; init; }
    [Id(1)] public CampaignView? Campaign { get; init; }
    [Id(2)] public string? Code { get; init; }
    [Id(3)] public string? Message { get; init; }
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
public interface ICampaignGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<CampaignCommandResult> CreateAsync(CampaignDefinition definition, Actor actor);

    [Alias("get")]
    Task<CampaignView?> GetAsync();

    [Alias("transition")]
    Task<CampaignCommandResult> TransitionAsync(LifecycleAction action, string? note, Actor actor);

    /// <summary>Generates and stores codes; interleaves with holds because it only reads the definition.</summary>
    [Alias("issue-coupons"), AlwaysInterleave]
    Task<CouponIssueResult> IssueCouponsAsync(CouponIssueRequest request, Actor actor);

    /// <summary>Evaluates the rules for an order and, when they pass, holds the discount against the budget.</summary>
    [Alias("hold")]
    Task<CampaignHold> TryHoldAsync(string redemptionId, OrderContext order, DealerProfile? dealer);

    /// <summary>Evaluates the rules and the live budget for an order; changes nothing.</summary>
    [Alias("evaluate")]
    Task<CampaignHold> EvaluateAsync(OrderContext order, DealerProfile? dealer);

    /// <summary>
    /// Confirms the holds of committed redemptions in one turn; the ledger sends it after each batch
    /// commits. One-way: a lost confirm costs only time, because the hold then expires and is resolved
    /// against the ledger, which confirms it.
    /// </summary>
    [Alias("confirm-many"), OneWay]
    Task ConfirmManyAsync(string[] redemptionIds);

    /// <summary>One-way for the same reason: a lost release expires and is resolved against the ledger.</summary>
    [Alias("release"), OneWay]
    Task ReleaseAsync(string redemptionId);

    [Alias("restore")]
    Task RestoreAsync(string redemptionId, long amount);
}
