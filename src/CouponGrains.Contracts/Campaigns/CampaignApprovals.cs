namespace CouponGrains.Contracts.Campaigns;

/// <summary>A catalogue line finance reviews a campaign against: list price and cost, minor units.</summary>
[GenerateSerializer, Alias("catalogue-item"), Immutable]
public sealed record CatalogueItem
{
    [Id(0)] public required string Sku { get; init; }
    [Id(1)] public string? Category { get; init; }
    [Id(2)] public long UnitPrice { get; init; }
    [Id(3)] public long UnitCost { get; init; }
}

/// <summary>One approval of a campaign in its current approval round.</summary>
[GenerateSerializer, Alias("campaign-approval-entry"), Immutable]
public sealed record CampaignApprovalEntry(
    [property: Id(0)] string ActorKeyId,
    [property: Id(1)] string Role,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string? Note);

/// <summary>Where a campaign stands in its approval chain.</summary>
[GenerateSerializer, Alias("campaign-approval-view"), Immutable]
public sealed record CampaignApprovalView
{
    [Id(0)] public CampaignStatus Status { get; init; }
    [Id(1)] public string? CreatedBy { get; init; }
    [Id(2)] public string? SubmittedBy { get; init; }

    /// <summary>How many distinct approvers this campaign needs (2 above <c>Approvals:SecondApproverAbove</c>, one of them an admin).</summary>
    [Id(3)] public int ApprovalsRequired { get; init; } = 1;
    [Id(4)] public CampaignApprovalEntry[] Approvals { get; init; } = [];
    [Id(5)] public CatalogueItem[] Catalogue { get; init; } = [];
}

/// <summary>The worst order the projection found: one SKU at the quantity where the discount bites hardest.</summary>
[GenerateSerializer, Alias("projection-worst-case"), Immutable]
public sealed record ProjectionWorstCase
{
    [Id(0)] public required string Sku { get; init; }
    [Id(1)] public long Quantity { get; init; }
    [Id(2)] public long OrderValue { get; init; }
    [Id(3)] public long Cost { get; init; }
    [Id(4)] public long Discount { get; init; }

    /// <summary>Null when the discount leaves no revenue.</summary>
    [Id(5)] public decimal? MarginPercent { get; init; }
}

/// <summary>
/// What finance reviews before approving: the most the campaign can cost (its budget, fully burnt) and
/// the lowest margin an order can reach under its discount and eligibility, given catalogue costs.
/// </summary>
[GenerateSerializer, Alias("campaign-projection"), Immutable]
public sealed record CampaignProjection
{
    [Id(0)] public required string Currency { get; init; }
    [Id(1)] public long Budget { get; init; }

    /// <summary>The most discount the campaign can give: its budget, since the budget cap is exact.</summary>
    [Id(2)] public long MaxDiscountCost { get; init; }
    [Id(3)] public decimal? MarginFloorPercent { get; init; }
    [Id(4)] public ProjectionWorstCase? LowestMargin { get; init; }

    /// <summary>True when the lowest margin is below the floor (the guardrail then rejects, caps or routes such orders per its mode).</summary>
    [Id(5)] public bool BreachesMarginFloor { get; init; }
    [Id(6)] public int ItemsEvaluated { get; init; }
    [Id(7)] public int ItemsIneligible { get; init; }
}

/// <summary>A lifecycle step with what may come with it: a note, a reason code, and (submit, review) catalogue costs.</summary>
[GenerateSerializer, Alias("transition-request"), Immutable]
public sealed record TransitionRequest
{
    [Id(0)] public string? Note { get; init; }
    [Id(1)] public string? ReasonCode { get; init; }
    [Id(2)] public CatalogueItem[]? Catalogue { get; init; }
}
