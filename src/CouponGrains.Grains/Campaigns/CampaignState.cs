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
}

[GenerateSerializer, Alias("campaign-lifecycle-entry")]
public sealed record LifecycleEntry(
    [property: Id(0)] CampaignStatus From,
    [property: Id(1)] CampaignStatus To,
    [property: Id(2)] string ActorKeyId,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string? Note);
