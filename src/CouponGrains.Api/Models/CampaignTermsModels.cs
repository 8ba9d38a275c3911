using CouponGrains.Api.Http;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;

namespace CouponGrains.Api.Models;

public sealed class PeriodCapRequest
{
    public string? Name { get; set; }
    public string? Period { get; set; }
    public string? Measure { get; set; }
    public string? Scope { get; set; }
    public long? Limit { get; set; }
}

public sealed class BundleItemRequest
{
    public string? Sku { get; set; }
    public string? LabourCode { get; set; }
    public long? Quantity { get; set; }
}

public sealed class BundleRequest
{
    public BundleItemRequest[]? Items { get; set; }
}

public sealed class WarrantyRequest
{
    public long? PerLineCap { get; set; }
    public string[]? ChannelTiers { get; set; }
    public string? MinDealerTier { get; set; }
    public string[]? DealerTierRanks { get; set; }
}

/// <summary>
/// The terms of a campaign beyond the core: stacking, margin mode, per-period caps and the settings of
/// the service-bundle and warranty kinds. Read and checked with the rest of the request.
/// </summary>
public static class CampaignTerms
{
    private static readonly string[] s_periods = [PeriodCapTerms.Day, PeriodCapTerms.Week, PeriodCapTerms.Month];
    private static readonly string[] s_measures = [PeriodCapTerms.Count, PeriodCapTerms.Amount];
    private static readonly string[] s_scopes = [PeriodCapTerms.CampaignScope, PeriodCapTerms.DealerScope, PeriodCapTerms.BranchScope];
    private static readonly string[] s_marginModes = [MarginModes.Reject, MarginModes.Cap, MarginModes.Approval];
    private const int MaxPeriodCaps = 20;
    private const int MaxBundleItems = 50;

    /// <summary>Applies the request's terms to <paramref name="definition"/>, adding an error per bad field.</summary>
    public static CampaignDefinition Apply(CampaignRequest r, CampaignDefinition definition, List<FieldError> errors)
    {
        var stacking = r.Stacking ?? StackingModes.Combinable;
        if (stacking is not (StackingModes.Combinable or StackingModes.Exclusive))
        {
            errors.Add(new("stacking", "must be combinable or exclusive."));
        }

        if (r.Priority is < -1000 or > 1000)
        {
            errors.Add(new("priority", "must be from -1000 to 1000."));
        }

        if (r.MaxCodesPerOrder is < 1 or > 20)
        {
            errors.Add(new("maxCodesPerOrder", "must be from 1 to 20 when set."));
        }

        var marginMode = r.MarginMode ?? MarginModes.Reject;
        if (Array.IndexOf(s_marginModes, marginMode) < 0)
        {
            errors.Add(new("marginMode", "must be reject, cap or approval."));
        }

        if (r.ApprovalAbove is < 0 or > CampaignMapping.MaxMoney)
        {
            errors.Add(new("approvalAbove", $"must be minor units from 0 to {CampaignMapping.MaxMoney} when set."));
        }

        return definition with
        {
            ApprovalAbove = r.ApprovalAbove,
            Stacking = stacking,
            Priority = r.Priority ?? 0,
            MaxCodesPerOrder = r.MaxCodesPerOrder,
            MarginMode = marginMode,
            PeriodCaps = PeriodCaps(r.PeriodCaps, errors),
            Bundle = Bundle(r.Kind, r.Bundle, errors),
            Warranty = Warranty(r.Kind, r.Warranty, errors),
        };
    }

    private static PeriodCapDefinition[] PeriodCaps(PeriodCapRequest[]? caps, List<FieldError> errors)
    {
        caps ??= [];
        if (caps.Length > MaxPeriodCaps)
        {
            errors.Add(new("periodCaps", $"may hold at most {MaxPeriodCaps} caps."));
            return [];
        }

        var result = new List<PeriodCapDefinition>(caps.Length);
        for (var i = 0; i < caps.Length; i++)
        {
            var c = caps[i];
            var at = $"periodCaps[{i}]";
            if (c is null)
            {
                errors.Add(new(at, "must be an object."));
                continue;
            }

            var ok = Check(c.Period, s_periods, $"{at}.period", errors)
                     & Check(c.Measure, s_measures, $"{at}.measure", errors)
                     & Check(c.Scope, s_scopes, $"{at}.scope", errors);
            if (c.Limit is not { } limit || limit is < 1 or > CampaignMapping.MaxMoney)
            {
                errors.Add(new($"{at}.limit", $"is required: from 1 to {CampaignMapping.MaxMoney}."));
                ok = false;
            }

            if (c.Name is not null && !CodeFormat.IsValidId(c.Name))
            {
                errors.Add(new($"{at}.name", "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'."));
                ok = false;
            }

            if (ok)
            {
                result.Add(new PeriodCapDefinition { Name = c.Name, Period = c.Period!, Measure = c.Measure!, Scope = c.Scope!, Limit = c.Limit!.Value });
            }
        }

        return result.ToArray();
    }

    private static BundleDefinition? Bundle(string? kind, BundleRequest? bundle, List<FieldError> errors)
    {
        if (kind != CampaignKinds.ServiceBundle)
        {
            if (bundle is not null)
            {
                errors.Add(new("bundle", "applies to service_bundle campaigns only."));
            }

            return null;
        }

        var items = bundle?.Items ?? [];
        if (items.Length is 0 or > MaxBundleItems)
        {
            errors.Add(new("bundle.items", $"a service_bundle needs 1 to {MaxBundleItems} parts or labour codes."));
            return null;
        }

        var result = new BundleItem[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var at = $"bundle.items[{i}]";
            if (item is null || (item.Sku is null) == (item.LabourCode is null))
            {
                errors.Add(new(at, "needs exactly one of sku or labourCode."));
                continue;
            }

            if (!CodeFormat.IsValidText(item.Sku ?? item.LabourCode, 64))
            {
                errors.Add(new(at, "sku or labourCode must be 1-64 characters without control characters."));
            }

            if (item.Quantity is < 1 or > 1_000_000)
            {
                errors.Add(new($"{at}.quantity", "must be from 1 to 1000000 when set."));
            }

            result[i] = new BundleItem { Sku = item.Sku, LabourCode = item.LabourCode, Quantity = item.Quantity ?? 1 };
        }

        return new BundleDefinition { Items = result };
    }

    private static WarrantyDefinition? Warranty(string? kind, WarrantyRequest? warranty, List<FieldError> errors)
    {
        if (kind != CampaignKinds.Warranty)
        {
            if (warranty is not null)
            {
                errors.Add(new("warranty", "applies to warranty campaigns only."));
            }

            return null;
        }

        warranty ??= new WarrantyRequest();
        if (warranty.PerLineCap is < 1 or > CampaignMapping.MaxMoney)
        {
            errors.Add(new("warranty.perLineCap", $"must be minor units from 1 to {CampaignMapping.MaxMoney} when set."));
        }

        var tiers = warranty.ChannelTiers ?? [];
        foreach (var tier in tiers)
        {
            if (!Contracts.Dealers.ChannelTiers.IsKnown(tier))
            {
                errors.Add(new("warranty.channelTiers", $"must contain only {string.Join(", ", Contracts.Dealers.ChannelTiers.All)}."));
                break;
            }
        }

        var ranks = warranty.DealerTierRanks ?? new WarrantyDefinition().DealerTierRanks;
        if (ranks.Length > 20 || ranks.Any(rank => !CodeFormat.IsValidText(rank, 64)))
        {
            errors.Add(new("warranty.dealerTierRanks", "must list at most 20 tiers of 1-64 characters."));
        }

        if (warranty.MinDealerTier is { } min && Array.IndexOf(ranks, min) < 0)
        {
            errors.Add(new("warranty.minDealerTier", "must be one of dealerTierRanks."));
        }

        return new WarrantyDefinition
        {
            PerLineCap = warranty.PerLineCap,
            ChannelTiers = tiers,
            MinDealerTier = warranty.MinDealerTier,
            DealerTierRanks = ranks,
        };
    }

    private static bool Check(string? value, string[] allowed, string field, List<FieldError> errors)
    {
        if (value is not null && Array.IndexOf(allowed, value) >= 0)
        {
            return true;
        }

        errors.Add(new(field, $"is required: one of {string.Join(", ", allowed)}."));
        return false;
    }
}
