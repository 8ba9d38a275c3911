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

    /// <summary>The labour operation this line bills, for service bundles; null for a part.</summary>
    [Id(5)] public string? LabourCode { get; init; }

    /// <summary><c>part</c> or <c>labour</c> (see <see cref="OrderLineKinds"/>); null reads as a part,
    /// or as labour when <see cref="LabourCode"/> is set.</summary>
    [Id(6)] public string? Kind { get; init; }

    /// <summary>True when the line bills labour rather than a part.</summary>
    public bool IsLabour => Kind is null ? LabourCode is not null : string.Equals(Kind, OrderLineKinds.Labour, StringComparison.Ordinal);

    public long LineValue => checked(Quantity * UnitPrice);
}

/// <summary>The kinds of order line.</summary>
public static class OrderLineKinds
{
    public const string Part = "part";
    public const string Labour = "labour";
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

    /// <summary>The complaint or field-failure reference a <c>goodwill</c> adjustment is tied to.</summary>
    [Id(7)] public string? ComplaintReference { get; init; }

    /// <summary>The serial number a <c>warranty</c> cover is bound to (single use per serial).</summary>
    [Id(8)] public string? SerialNumber { get; init; }

    /// <summary>The job card a <c>warranty</c> cover is bound to when there is no serial number.</summary>
    [Id(9)] public string? JobCard { get; init; }

    /// <summary>An approved exception request this redemption uses (goodwill, margin routed to approval).</summary>
    [Id(10)] public string? ApprovalId { get; init; }
}

/// <summary>
/// A hash of a normalized order: how a replay is recognised whatever the JSON spacing or field order, and
/// what an exception approval is bound to (without the approval id itself, which the approved order
/// carries and the asking order does not).
/// </summary>
public static class OrderHash
{
    public static string Of(OrderContext order) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(order)));

    public static string ForApproval(OrderContext order) => Of(order with { ApprovalId = null });
}
