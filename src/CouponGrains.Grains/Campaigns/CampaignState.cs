using CouponGrains.Contracts.Campaigns;

namespace CouponGrains.Grains.Campaigns;

/// <summary>What a campaign persists in Orleans grain storage. Its budget use is derived from the ledger.</summary>
[GenerateSerializer, Alias("campaign-state")]
public sealed class CampaignState
{
    [Id(0)] public CampaignDefinition? Definition { get; set; }
    [Id(1)] public CampaignStatus Status { get; set; }
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    [Id(3)] public string? CreatedBy { get; set; }
    [Id(4)] public string? DecisionNote { get; set; }
    [Id(5)] public List<LifecycleEntry> History { get; set; } = [];

    /// <summary>Who submitted the current approval round (or sent it back to approval by an edit).</summary>
    [Id(6)] public string? SubmittedBy { get; set; }

    /// <summary>Approvals collected in the current round; cleared when a round starts.</summary>
    [Id(7)] public List<CampaignApprovalEntry> Approvals { get; set; } = [];

    /// <summary>Catalogue costs given at submit, for the finance projection.</summary>
    [Id(8)] public CatalogueItem[] Catalogue { get; set; } = [];
}

[GenerateSerializer, Alias("campaign-lifecycle-entry")]
public sealed record LifecycleEntry(
    [property: Id(0)] CampaignStatus From,
    [property: Id(1)] CampaignStatus To,
    [property: Id(2)] string ActorKeyId,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string? Note);
