namespace CouponGrains.Contracts.Orders;

/// <summary>One order line as the dealer's order entry sends it. Prices are minor units per unit.</summary>
[GenerateSerializer, Alias("order-line"), Immutable]
public sealed record OrderLine
{
    [Id(0)] public required string Sku { get; init; }
    [Id(1)] public string? Category { get; init; }
    [Id(2)] public required long Quantity { get; init; }
    [Id(3)] public required long UnitPrice { get; init; }
    [Id(4)] public long? UnitCost { get; init; }

    public long LineValue => checked(Quantity * UnitPrice);
}

[GenerateSerializer, Alias("order-customer"), Immutable]
public sealed record OrderCustomer
{
    [Id(0)] public string? Id { get; init; }
    [Id(1)] public string[] Tags { get; init; } = [];
}

/// <summary>
/// The order a coupon is validated or redeemed against. Already validated for shape and ranges
/// (see the API's request validation) by the time it reaches a grain.
/// </summary>
[GenerateSerializer, Alias("order-context"), Immutable]
public sealed record OrderContext
{
    [Id(0)] public required string Code { get; init; }
    [Id(1)] public required string DealerId { get; init; }
    [Id(2)] public string? BranchId { get; init; }
    [Id(3)] public string? OrderId { get; init; }
    [Id(4)] public string? Region { get; init; }
    [Id(5)] public OrderCustomer Customer { get; init; } = new();
    [Id(6)] public OrderLine[] Lines { get; init; } = [];
}
