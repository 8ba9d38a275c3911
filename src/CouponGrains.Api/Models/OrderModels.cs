using CouponGrains.Api.Http;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Orders;

namespace CouponGrains.Api.Models;

public sealed class OrderLineRequest
{
    public string? Sku { get; set; }
    public string? Category { get; set; }
    public long? Quantity { get; set; }
    public long? UnitPrice { get; set; }
    public long? UnitCost { get; set; }
    public string? LabourCode { get; set; }
    /// <summary><c>part</c> or <c>labour</c>.</summary>
    public string? Kind { get; set; }
}

public sealed class CustomerRequest
{
    public string? Id { get; set; }
    public string[]? Tags { get; set; }
}

/// <summary>The order context of validations and redemptions, as sent.</summary>
public sealed class OrderRequest
{
    public string? Code { get; set; }
    public string? DealerId { get; set; }
    public string? BranchId { get; set; }
    public string? OrderId { get; set; }
    public string? Region { get; set; }
    public CustomerRequest? Customer { get; set; }
    public OrderLineRequest[]? Lines { get; set; }
    /// <summary>The field-failure or complaint reference a goodwill coupon is tied to.</summary>
    public string? ComplaintReference { get; set; }
    /// <summary>The serial number a warranty coupon covers.</summary>
    public string? SerialNumber { get; set; }
    /// <summary>The job card a warranty coupon covers (when there is no serial).</summary>
    public string? JobCard { get; set; }
    /// <summary>An approved exception request this redemption uses.</summary>
    public string? ApprovalId { get; set; }
    /// <summary>Validations only: several codes stacked on one order (instead of <see cref="Code"/>).</summary>
    public string[]? Codes { get; set; }
}

public static class OrderMapping
{
    public const int MaxLines = 500;
    public const long MaxQuantity = 1_000_000;
    public const long MaxUnitPrice = 1_000_000_000_000; // 10 billion major units in a 2-digit currency
    public const long MaxOrderValue = 1_000_000_000_000_000;

    /// <summary>Checks shape and ranges and maps to the contract; errors name the JSON field.</summary>
    public static OrderContext? ToContract(this OrderRequest request, bool requireOrderId, List<FieldError> errors)
    {
        var code = CodeFormat.NormalizeCode(request.Code);
        if (request.Code is null)
        {
            errors.Add(new("code", "is required."));
        }
        else if (code is null)
        {
            errors.Add(new("code", "must be 1-64 characters of A-Z, 0-9, '-' or '_'."));
        }

        Id(request.DealerId, "dealerId", required: true, errors);
        Id(request.BranchId, "branchId", required: false, errors);
        Id(request.OrderId, "orderId", required: requireOrderId, errors);
        Id(request.Customer?.Id, "customer.id", required: false, errors);
        if (request.Region is not null && !CodeFormat.IsValidText(request.Region, 64))
        {
            errors.Add(new("region", "must be 1-64 characters without control characters."));
        }

        var tags = request.Customer?.Tags ?? [];
        for (var i = 0; i < tags.Length; i++)
        {
            if (!CodeFormat.IsValidText(tags[i], 64))
            {
                errors.Add(new($"customer.tags[{i}]", "must be 1-64 characters without control characters."));
            }
        }

        var lines = request.Lines;
        if (lines is null || lines.Length == 0)
        {
            errors.Add(new("lines", "at least one order line is required."));
            lines = [];
        }
        else if (lines.Length > MaxLines)
        {
            errors.Add(new("lines", $"at most {MaxLines} lines are allowed."));
        }

        var mapped = new OrderLine[lines.Length];
        long total = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var at = $"lines[{i}]";
            if (line is null)
            {
                errors.Add(new(at, "must be an object."));
                continue;
            }

            if (!CodeFormat.IsValidText(line.Sku, 64))
            {
                errors.Add(new($"{at}.sku", "is required: 1-64 characters without control characters."));
            }

            if (line.Category is not null && !CodeFormat.IsValidText(line.Category, 64))
            {
                errors.Add(new($"{at}.category", "must be 1-64 characters without control characters."));
            }

            if (line.Quantity is not { } quantity || quantity is < 1 or > MaxQuantity)
            {
                errors.Add(new($"{at}.quantity", $"is required: a whole number from 1 to {MaxQuantity}."));
            }

            if (line.UnitPrice is not { } price || price is < 1 or > MaxUnitPrice)
            {
                errors.Add(new($"{at}.unitPrice", $"is required: minor units from 1 to {MaxUnitPrice}."));
            }

            if (line.UnitCost is < 0 or > MaxUnitPrice)
            {
                errors.Add(new($"{at}.unitCost", $"must be minor units from 0 to {MaxUnitPrice}."));
            }

            if (line.LabourCode is not null && !CodeFormat.IsValidText(line.LabourCode, 64))
            {
                errors.Add(new($"{at}.labourCode", "must be 1-64 characters without control characters."));
            }

            if (line.Kind is not (null or OrderLineKinds.Part or OrderLineKinds.Labour))
            {
                errors.Add(new($"{at}.kind", "must be part or labour."));
            }

            if (line.Quantity is { } q && line.UnitPrice is { } p && q is >= 1 and <= MaxQuantity && p is >= 1 and <= MaxUnitPrice)
            {
                total += q * p; // both bounded: cannot overflow before the check below
                if (total > MaxOrderValue)
                {
                    errors.Add(new("lines", $"the order value may not exceed {MaxOrderValue} minor units."));
                    break;
                }
            }

            mapped[i] = new OrderLine
            {
                Sku = line.Sku ?? "",
                Category = line.Category,
                Quantity = line.Quantity ?? 0,
                UnitPrice = line.UnitPrice ?? 0,
                UnitCost = line.UnitCost,
                LabourCode = line.LabourCode,
                Kind = line.Kind,
            };
        }

        Text(request.ComplaintReference, "complaintReference", errors);
        Text(request.SerialNumber, "serialNumber", errors);
        Text(request.JobCard, "jobCard", errors);
        Id(request.ApprovalId, "approvalId", required: false, errors);
        if (errors.Count > 0)
        {
            return null;
        }

        return new OrderContext
        {
            Code = code!,
            DealerId = request.DealerId!,
            BranchId = request.BranchId,
            OrderId = request.OrderId,
            Region = request.Region,
            Customer = new OrderCustomer { Id = request.Customer?.Id, Tags = tags },
            Lines = mapped,
            ComplaintReference = request.ComplaintReference,
            SerialNumber = request.SerialNumber,
            JobCard = request.JobCard,
            ApprovalId = request.ApprovalId,
        };
    }

    private static void Text(string? value, string field, List<FieldError> errors)
    {
        if (value is not null && !CodeFormat.IsValidText(value, 128))
        {
            errors.Add(new(field, "must be 1-128 characters without control characters."));
        }
    }

    private static void Id(string? value, string field, bool required, List<FieldError> errors)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(new(field, "is required."));
            }
        }
        else if (!CodeFormat.IsValidId(value))
        {
            errors.Add(new(field, "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
        }
    }
}
