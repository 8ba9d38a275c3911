namespace CouponGrains.Contracts.Dealers;

/// <summary>Channel tiers a dealer can belong to.</summary>
public static class ChannelTiers
{
    public const string Distributor = "distributor";
    public const string Dealer = "dealer";
    public const string ServiceCenter = "service_center";

    public static readonly string[] All = [Distributor, Dealer, ServiceCenter];

    public static bool IsKnown(string? tier) => tier is not null && Array.IndexOf(All, tier) >= 0;
}

[GenerateSerializer, Alias("branch"), Immutable]
public sealed record Branch
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public string? Region { get; init; }
}

/// <summary>A dealer as imported from the CRM.</summary>
[GenerateSerializer, Alias("dealer-profile"), Immutable]
public sealed record DealerProfile
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public string? Region { get; init; }
    [Id(3)] public required string ChannelTier { get; init; }
    [Id(4)] public string[] Tags { get; init; } = [];
    [Id(5)] public Branch[] Branches { get; init; } = [];
    [Id(6)] public DateTimeOffset UpdatedAt { get; init; }
}
