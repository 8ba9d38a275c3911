using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Dealers;

namespace CouponGrains.Api.Models;

public sealed class SlabRequest
{
    public long? From { get; set; }
    public decimal? Percent { get; set; }
}

public sealed class DiscountRequest
{
    public string? Type { get; set; }
    public decimal? Percent { get; set; }
    public long? MaxAmount { get; set; }
    public long? Amount { get; set; }
    public string? Basis { get; set; }
    public SlabRequest[]? Slabs { get; set; }
}

public sealed class EligibilityRequest
{
    public string[]? Skus { get; set; }
    public string[]? Categories { get; set; }
    public string[]? ExcludedSkus { get; set; }
    public string[]? ExcludedCategories { get; set; }
    public long? MinOrderValue { get; set; }
    public string[]? Regions { get; set; }
    public string[]? ChannelTiers { get; set; }
    public string[]? CustomerTags { get; set; }
    public string[]? DealerIds { get; set; }
}

public sealed class CapsRequest
{
    public int? PerCouponUses { get; set; }
    public long? PerDealerAmount { get; set; }
    public int? PerBranchRedemptions { get; set; }
    public int? PerCustomerRedemptions { get; set; }
}

/// <summary>A campaign definition as marketing sends it.</summary>
public sealed class CampaignRequest
{
    public string? Name { get; set; }
    public string? Kind { get; set; }
    public string? Currency { get; set; }
    public long? Budget { get; set; }
    public DateTime? ValidFrom { get; set; }
    public DateTime? ValidUntil { get; set; }
    public string? TimeZone { get; set; }
    public DiscountRequest? Discount { get; set; }
    public EligibilityRequest? Eligibility { get; set; }
    public CapsRequest? Caps { get; set; }
    public decimal? MarginFloorPercent { get; set; }
    public string? MarginMode { get; set; }
    public string? Stacking { get; set; }
    public int? Priority { get; set; }
    public int? MaxCodesPerOrder { get; set; }
    public PeriodCapRequest[]? PeriodCaps { get; set; }
    public BundleRequest? Bundle { get; set; }
    public WarrantyRequest? Warranty { get; set; }
    public long? ApprovalAbove { get; set; }
}

public sealed class CouponIssueRequestBody
{
    public int? Count { get; set; }
    public string? Prefix { get; set; }
    public string? Code { get; set; }
    public string? DealerId { get; set; }
    public int? MaxUses { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
}

public sealed class LifecycleRequest
{
    public string? Note { get; set; }

    /// <summary>A snake_case reason (required to reject).</summary>
    public string? ReasonCode { get; set; }

    /// <summary>Catalogue costs for the finance projection (submit).</summary>
    public CatalogueItemRequest[]? Catalogue { get; set; }
}

public sealed class CatalogueItemRequest
{
    public string? Sku { get; set; }
    public string? Category { get; set; }
    public long? UnitPrice { get; set; }
    public long? UnitCost { get; set; }
}

public sealed class ProjectionRequest
{
    public CatalogueItemRequest[]? Catalogue { get; set; }
}

public sealed class BranchRequest
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Region { get; set; }
}

public sealed class DealerRequest
{
    public string? Name { get; set; }
    public string? Region { get; set; }
    public string? ChannelTier { get; set; }
    public string[]? Tags { get; set; }
    public BranchRequest[]? Branches { get; set; }
}

public sealed class ApiKeyRequest
{
    public string? Name { get; set; }
    public string? Role { get; set; }
    public string? DealerId { get; set; }
}

public static class CampaignMapping
{
    public const long MaxMoney = 1_000_000_000_000_000;
    private const int MaxListItems = 20_000;

    public static CampaignDefinition? ToContract(this CampaignRequest r, List<FieldError> errors)
    {
        if (!CodeFormat.IsValidText(r.Name, 200))
        {
            errors.Add(new("name", "is required: 1-200 characters without control characters."));
        }

        if (!CampaignKinds.IsKnown(r.Kind))
        {
            errors.Add(new("kind", $"must be one of {string.Join(", ", CampaignKinds.All)}."));
        }

        if (!Currencies.IsKnown(r.Currency))
        {
            errors.Add(new("currency", "must be a known ISO 4217 currency code, e.g. INR."));
        }

        if (r.Budget is not { } budget || budget is < 1 or > MaxMoney)
        {
            errors.Add(new("budget", $"is required: minor units from 1 to {MaxMoney}."));
        }

        TimeZoneInfo? zone = null;
        if (r.TimeZone is null || !TimeZoneInfo.TryFindSystemTimeZoneById(r.TimeZone, out zone))
        {
            errors.Add(new("timeZone", "is required: an IANA time zone such as Asia/Kolkata."));
        }

        if (r.ValidFrom is null)
        {
            errors.Add(new("validFrom", "is required: a local date-time in the campaign's time zone."));
        }

        if (r.ValidUntil is null)
        {
            errors.Add(new("validUntil", "is required: a local date-time in the campaign's time zone."));
        }
        else if (r.ValidFrom is { } from && r.ValidUntil <= from)
        {
            errors.Add(new("validUntil", "must be after validFrom."));
        }

        var discount = Discount(r.Discount, errors);
        var e = r.Eligibility ?? new EligibilityRequest();
        var eligibility = new EligibilityRules
        {
            Skus = List(e.Skus, "eligibility.skus", errors),
            Categories = List(e.Categories, "eligibility.categories", errors),
            ExcludedSkus = List(e.ExcludedSkus, "eligibility.excludedSkus", errors),
            ExcludedCategories = List(e.ExcludedCategories, "eligibility.excludedCategories", errors),
            MinOrderValue = e.MinOrderValue ?? 0,
            Regions = List(e.Regions, "eligibility.regions", errors),
            ChannelTiers = List(e.ChannelTiers, "eligibility.channelTiers", errors),
            CustomerTags = List(e.CustomerTags, "eligibility.customerTags", errors),
            DealerIds = List(e.DealerIds, "eligibility.dealerIds", errors),
        };
        if (e.MinOrderValue is < 0 or > MaxMoney)
        {
            errors.Add(new("eligibility.minOrderValue", $"must be minor units from 0 to {MaxMoney}."));
        }

        foreach (var tier in eligibility.ChannelTiers)
        {
            if (!ChannelTiers.IsKnown(tier))
            {
                errors.Add(new("eligibility.channelTiers", $"must contain only {string.Join(", ", ChannelTiers.All)}."));
                break;
            }
        }

        var c = r.Caps ?? new CapsRequest();
        if (c.PerCouponUses is < 1)
        {
            errors.Add(new("caps.perCouponUses", "must be at least 1 when set."));
        }

        if (c.PerDealerAmount is < 1 or > MaxMoney)
        {
            errors.Add(new("caps.perDealerAmount", $"must be minor units from 1 to {MaxMoney} when set."));
        }

        if (c.PerBranchRedemptions is < 1)
        {
            errors.Add(new("caps.perBranchRedemptions", "must be at least 1 when set."));
        }

        if (c.PerCustomerRedemptions is < 1)
        {
            errors.Add(new("caps.perCustomerRedemptions", "must be at least 1 when set."));
        }

        if (r.MarginFloorPercent is < 0 or >= 100)
        {
            errors.Add(new("marginFloorPercent", "must be from 0 to below 100 when set."));
        }

        var core = new CampaignDefinition
        {
            Name = r.Name ?? "",
            Kind = r.Kind ?? "",
            Currency = r.Currency ?? "",
            Budget = r.Budget ?? 0,
            ValidFrom = DateTime.SpecifyKind(r.ValidFrom ?? default, DateTimeKind.Unspecified),
            ValidUntil = DateTime.SpecifyKind(r.ValidUntil ?? default, DateTimeKind.Unspecified),
            TimeZone = r.TimeZone ?? "",
            Discount = discount ?? new DiscountDefinition { Type = DiscountTypes.Fixed },
            Eligibility = eligibility,
            Caps = new CapsDefinition
            {
                PerCouponUses = c.PerCouponUses,
                PerDealerAmount = c.PerDealerAmount,
                PerBranchRedemptions = c.PerBranchRedemptions,
                PerCustomerRedemptions = c.PerCustomerRedemptions,
            },
            MarginFloorPercent = r.MarginFloorPercent,
        };
        var definition = CampaignTerms.Apply(r, core, errors);
        return errors.Count > 0 || zone is null ? null : definition;
    }

    private static DiscountDefinition? Discount(DiscountRequest? d, List<FieldError> errors)
    {
        if (d is null)
        {
            errors.Add(new("discount", "is required."));
            return null;
        }

        switch (d.Type)
        {
            case DiscountTypes.Percent:
                if (d.Percent is not { } percent || percent is <= 0 or > 100)
                {
                    errors.Add(new("discount.percent", "is required: more than 0 and at most 100."));
                }

                if (d.MaxAmount is < 1 or > MaxMoney)
                {
                    errors.Add(new("discount.maxAmount", $"must be minor units from 1 to {MaxMoney} when set."));
                }

                return new DiscountDefinition { Type = DiscountTypes.Percent, Percent = d.Percent ?? 0, MaxAmount = d.MaxAmount };
            case DiscountTypes.Fixed:
                if (d.Amount is not { } amount || amount is < 1 or > MaxMoney)
                {
                    errors.Add(new("discount.amount", $"is required: minor units from 1 to {MaxMoney}."));
                }

                return new DiscountDefinition { Type = DiscountTypes.Fixed, Amount = d.Amount ?? 0 };
            case DiscountTypes.Slab:
                if (d.Basis is not ("order_value" or "quantity"))
                {
                    errors.Add(new("discount.basis", "must be order_value or quantity."));
                }

                var slabs = d.Slabs ?? [];
                if (slabs.Length is 0 or > 50)
                {
                    errors.Add(new("discount.slabs", "must have 1 to 50 slabs."));
                }

                for (var i = 0; i < slabs.Length; i++)
                {
                    if (slabs[i]?.From is not { } from || from < 0 || slabs[i].Percent is not { } p || p is <= 0 or > 100)
                    {
                        errors.Add(new($"discount.slabs[{i}]", "needs from ≥ 0 and a percent above 0 and at most 100."));
                    }
                    else if (i > 0 && slabs[i - 1]?.From is { } previous && from <= previous)
                    {
                        errors.Add(new($"discount.slabs[{i}].from", "slabs must ascend by from."));
                    }
                }

                if (d.MaxAmount is < 1 or > MaxMoney)
                {
                    errors.Add(new("discount.maxAmount", $"must be minor units from 1 to {MaxMoney} when set."));
                }

                return new DiscountDefinition
                {
                    Type = DiscountTypes.Slab,
                    Basis = d.Basis,
                    MaxAmount = d.MaxAmount,
                    Slabs = slabs.Where(s => s is not null).Select(s => new Slab { From = s.From ?? 0, Percent = s.Percent ?? 0 }).ToArray(),
                };
            default:
                errors.Add(new("discount.type", "must be percent, fixed or slab."));
                return null;
        }
    }

    private static string[] List(string[]? items, string field, List<FieldError> errors)
    {
        if (items is null)
        {
            return [];
        }

        if (items.Length > MaxListItems)
        {
            errors.Add(new(field, $"may hold at most {MaxListItems} entries."));
            return [];
        }

        foreach (var item in items)
        {
            if (!CodeFormat.IsValidText(item, 64))
            {
                errors.Add(new(field, "entries must be 1-64 characters without control characters."));
                break;
            }
        }

        return items;
    }

    public static DealerProfile? ToContract(this DealerRequest r, string dealerId, List<FieldError> errors)
    {
        if (!CodeFormat.IsValidId(dealerId))
        {
            errors.Add(new("dealerId", "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
        }

        if (!CodeFormat.IsValidText(r.Name, 200))
        {
            errors.Add(new("name", "is required: 1-200 characters without control characters."));
        }

        if (!ChannelTiers.IsKnown(r.ChannelTier))
        {
            errors.Add(new("channelTier", $"must be one of {string.Join(", ", ChannelTiers.All)}."));
        }

        if (r.Region is not null && !CodeFormat.IsValidText(r.Region, 64))
        {
            errors.Add(new("region", "must be 1-64 characters without control characters."));
        }

        var tags = List(r.Tags, "tags", errors);
        var branches = r.Branches ?? [];
        for (var i = 0; i < branches.Length; i++)
        {
            if (branches[i] is null || !CodeFormat.IsValidId(branches[i].Id) || !CodeFormat.IsValidText(branches[i].Name, 200))
            {
                errors.Add(new($"branches[{i}]", "needs an id (letters, digits, '-', '_', '.', ':') and a name."));
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new DealerProfile
        {
            Id = dealerId,
            Name = r.Name!,
            Region = r.Region,
            ChannelTier = r.ChannelTier!,
            Tags = tags,
            Branches = branches.Select(b => new Branch { Id = b.Id!, Name = b.Name!, Region = b.Region }).ToArray(),
        };
    }
}
