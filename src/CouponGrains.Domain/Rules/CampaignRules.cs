using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Discounts;

namespace CouponGrains.Domain.Rules;

/// <summary>
/// The outcome of evaluating a campaign's rules against an order.
/// </summary>
/// <param name="EligibleValue">Σ quantity × unit price over the eligible lines, minor units.</param>
/// <param name="EligibleQuantity">Σ quantity over the eligible lines.</param>
/// <param name="Discount">
/// The discount the campaign's definition gives for the eligible lines, minor units, after the margin
/// guardrail's cap. It is computed even when some rule fails (so a dry run can show it) and must only
/// be applied when <see cref="IsEligible"/> (or, for <see cref="RequiresApproval"/>, once approved).
/// </param>
/// <param name="Reasons">Every rule that failed, in evaluation order; empty when the order is eligible.</param>
public sealed record Evaluation(long EligibleValue, long EligibleQuantity, long Discount, IReadOnlyList<Rejection> Reasons)
{
    /// <summary>True when no rule failed.</summary>
    public bool IsEligible => Reasons.Count == 0;

    /// <summary>
    /// True when the only reasons are <see cref="RejectionCode.ApprovalRequired"/>: the discount is
    /// valid but must be decided by an approver (always so for <c>goodwill</c>).
    /// </summary>
    public bool RequiresApproval
    {
        get
        {
            if (Reasons.Count == 0)
            {
                return false;
            }

            for (var i = 0; i < Reasons.Count; i++)
            {
                if (Reasons[i].Code != RejectionCode.ApprovalRequired)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// The discount split per order line, index for index with <see cref="OrderContext.Lines"/>:
    /// 0 for an ineligible line, never above the line's value, and summing exactly to <see cref="Discount"/>.
    /// </summary>
    public long[] LineDiscounts { get; init; } = [];

    /// <summary>For a slab discount, the index into <see cref="DiscountDefinition.Slabs"/> of the tier the order reached; −1 otherwise.</summary>
    public int SlabIndex { get; init; } = -1;

    /// <summary>The discount before the margin guardrail capped it (equal to <see cref="Discount"/> when not capped).</summary>
    public long UncappedDiscount { get; init; }

    /// <summary>For <c>retro_rebate</c>: the accrual this order causes (settled later by credit note); null for other kinds.</summary>
    public RebateAccrual? Rebate { get; init; }

    /// <summary>For <c>warranty</c>: the key the cover is bound to (see <see cref="CampaignRules.WarrantyKey"/>); null otherwise.</summary>
    public string? WarrantyKey { get; init; }
}

/// <summary>Live facts some kinds need beyond the order: used warranty serials, the period's prior purchases.</summary>
public sealed record EvaluationInputs
{
    /// <summary>For <c>warranty</c>: the warranty keys (<see cref="CampaignRules.WarrantyKey"/>) already used on this campaign.</summary>
    public IReadOnlySet<string>? UsedWarrantyKeys { get; init; }

    /// <summary>For <c>retro_rebate</c>: the dealer's eligible purchase amounts so far in the rebate period.</summary>
    public IReadOnlyList<long>? PriorEligiblePurchases { get; init; }
}

/// <summary>
/// Campaign eligibility and discount as a pure function: validity window, dealer, channel tier, region,
/// customer tags, eligible lines, minimum order value, the discount rule of the campaign's kind, the
/// per-line split and the margin guardrail. Caps and budgets are not checked here; they need live
/// state and belong to the grains.
/// </summary>
public static class CampaignRules
{
    // Orders up to this many lines keep their per-line working figures on the stack.
    private const int StackLines = 64;

    private static readonly Rejection s_noReference =
        new(RejectionCode.ReferenceRequired, "A goodwill adjustment needs a complaint or field-failure reference.");
    private static readonly Rejection s_noSerial =
        new(RejectionCode.ReferenceRequired, "A warranty cover needs the serial number or job card it is for.");
    private static readonly Rejection s_serialUsed =
        new(RejectionCode.SerialAlreadyUsed, "This serial number or job card has already used its warranty cover.");
    private static readonly Rejection s_goodwillApproval =
        new(RejectionCode.ApprovalRequired, "Goodwill adjustments are decided by an approver.");

    /// <summary>
    /// Evaluates every rule of <paramref name="campaign"/> against <paramref name="order"/> at
    /// <paramref name="now"/> and reports all failing ones, not just the first.
    /// <list type="bullet">
    /// <item>Window: valid from ValidFromUtc (inclusive) until ValidUntilUtc inclusive to the second.</item>
    /// <item>Region: the order's region, else the region of the dealer's branch the order names, else
    /// the dealer's region.</item>
    /// <item>A line is eligible when it matches the SKU or category lists (or both lists are empty)
    /// and is not excluded; an exclusion always wins over an inclusion. For <c>service_bundle</c> the
    /// eligible lines are the bundle's lines instead; for <c>warranty</c> part lines only.</item>
    /// <item>The minimum order value applies to the eligible value, not the order total, so ineligible
    /// lines cannot be used to reach it.</item>
    /// <item>Kind: <c>dealer_promo</c> / <c>target_slab</c> use the discount definition (the slab reached
    /// is <see cref="Evaluation.SlabIndex"/>); <c>service_bundle</c> needs every item with its quantity
    /// (<c>bundle_incomplete</c>); <c>retro_rebate</c> gives no instant discount and reports the
    /// <see cref="Evaluation.Rebate"/> accrual; <c>goodwill</c> needs a complaint reference and always
    /// requires approval; <c>warranty</c> needs a serial or job card not used before, an allowed channel
    /// tier and dealer tier, and covers a percent of each part line up to the per-line cap.</item>
    /// <item>Margin floor: over the eligible lines that carry a unit cost (skipped when none do),
    /// (revenue − discount − cost) / (revenue − discount) must be at least the floor percent; otherwise
    /// by the campaign's margin mode the code is rejected, routed to approval, or the discount capped.</item>
    /// </list>
    /// </summary>
    /// <param name="rules">The compiled form of <paramref name="campaign"/>.</param>
    /// <param name="dealer">The dealer's profile, or null when it is unknown (tier and dealer-region rules then fail).</param>
    /// <param name="inputs">Live facts for <c>warranty</c> and <c>retro_rebate</c>; null reads as none used / no prior purchases.</param>
    public static Evaluation Evaluate(
        CompiledRules rules, CampaignDefinition campaign, OrderContext order, DealerProfile? dealer, DateTimeOffset now,
        EvaluationInputs? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(campaign);
        ArgumentNullException.ThrowIfNull(order);

        // Most evaluations pass, so the list is only allocated on the first failure.
        List<Rejection>? reasons = null;
        CheckWhoAndWhen(rules, order, dealer, now, ref reasons);

        var kind = rules.Kind;
        var lines = order.Lines;
        var n = lines.Length;

        // weights[i] is what line i may be discounted in proportion to (its value, or for warranty its
        // capped cover), 0 when it is not eligible; the final split is written over it in place.
        var shares = new long[n];
        Span<long> bundleFilled = rules.Bundle.Count <= StackLines ? stackalloc long[rules.Bundle.Count] : new long[rules.Bundle.Count];

        long eligibleValue = 0, eligibleQuantity = 0;
        long costedRevenue = 0, costedCost = 0;
        var eligibleLines = 0;
        var costedLines = 0;
        var anyInclusion = rules.Skus.Count > 0 || rules.Categories.Count > 0;
        var isBundle = kind == CampaignKinds.ServiceBundle;
        var isWarranty = kind == CampaignKinds.Warranty;
        for (var i = 0; i < n; i++)
        {
            var line = lines[i];
            if (isBundle)
            {
                var item = rules.Bundle.ItemOf(line);
                if (item < 0 || IsExcluded(line, rules))
                {
                    continue;
                }

                bundleFilled[item] = checked(bundleFilled[item] + line.Quantity);
            }
            else if (!IsEligible(line, rules, anyInclusion) || (isWarranty && line.IsLabour))
            {
                continue;
            }

            var lineValue = checked(line.Quantity * line.UnitPrice);
            shares[i] = lineValue;
            eligibleValue = checked(eligibleValue + lineValue);
            eligibleQuantity = checked(eligibleQuantity + line.Quantity);
            eligibleLines++;

            if (line.UnitCost is { } unitCost)
            {
                costedRevenue = checked(costedRevenue + lineValue);
                costedCost = checked(costedCost + checked(line.Quantity * unitCost));
                costedLines++;
            }
        }

        if (isBundle)
        {
            CheckBundle(rules.Bundle, bundleFilled, ref reasons);
        }
        else if (eligibleLines == 0)
        {
            Add(ref reasons, RejectionCode.NotEligible, "No line of the order is eligible.");
        }

        if (eligibleValue < campaign.Eligibility.MinOrderValue)
        {
            Add(ref reasons, RejectionCode.MinOrderValueNotMet,
                $"The eligible order value {eligibleValue} is below the minimum {campaign.Eligibility.MinOrderValue}.");
        }

        var slabIndex = -1;
        long discount;
        RebateAccrual? rebate = null;
        string? warrantyKey = null;
        switch (kind)
        {
            case CampaignKinds.RetroRebate:
                // No instant discount: the order only adds to the period's accrual.
                rebate = RetroRebate.Accrue(
                    inputs?.PriorEligiblePurchases ?? (IReadOnlyList<long>)[], eligibleValue, campaign.Discount.Slabs);
                discount = 0;
                break;
            case CampaignKinds.Warranty:
                warrantyKey = WarrantyKey(order);
                CheckWarranty(rules.Warranty, dealer, warrantyKey, inputs?.UsedWarrantyKeys, ref reasons);
                discount = WarrantyCover(rules.Warranty, campaign.Discount, lines, shares);
                break;
            default:
                discount = DiscountCalculator.Compute(campaign.Discount, eligibleValue, eligibleQuantity, out slabIndex);
                break;
        }

        var uncapped = discount;
        // A retro rebate gives nothing at order time, so there is no margin to guard here.
        if (campaign.MarginFloorPercent is { } floor && costedLines > 0 && kind != CampaignKinds.RetroRebate
            && MarginGuard.Breached(costedRevenue, costedCost, discount, floor))
        {
            discount = ApplyMarginMode(campaign.MarginMode, floor, costedRevenue, costedCost, discount, ref reasons);
        }

        if (kind == CampaignKinds.Goodwill)
        {
            if (string.IsNullOrWhiteSpace(order.ComplaintReference))
            {
                (reasons ??= new List<Rejection>(2)).Add(s_noReference);
            }

            (reasons ??= new List<Rejection>(2)).Add(s_goodwillApproval);
        }

        if (discount == 0 && reasons is null && kind != CampaignKinds.RetroRebate)
        {
            Add(ref reasons, RejectionCode.NotEligible, "No discount applies to this order.");
        }

        LineAllocator.Allocate(discount, shares, shares);
        return new Evaluation(eligibleValue, eligibleQuantity, discount, reasons ?? (IReadOnlyList<Rejection>)[])
        {
            LineDiscounts = shares,
            SlabIndex = slabIndex,
            UncappedDiscount = uncapped,
            Rebate = rebate,
            WarrantyKey = warrantyKey,
        };
    }

    /// <summary>
    /// The key a warranty cover is bound to: <c>serial:{SerialNumber}</c>, else <c>job_card:{JobCard}</c>,
    /// else null. Store it once the cover is redeemed; pass the stored keys in <see cref="EvaluationInputs.UsedWarrantyKeys"/>.
    /// </summary>
    public static string? WarrantyKey(OrderContext order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return !string.IsNullOrWhiteSpace(order.SerialNumber) ? "serial:" + order.SerialNumber.Trim()
            : !string.IsNullOrWhiteSpace(order.JobCard) ? "job_card:" + order.JobCard.Trim()
            : null;
    }

    private static void CheckWhoAndWhen(
        CompiledRules rules, OrderContext order, DealerProfile? dealer, DateTimeOffset now, ref List<Rejection>? reasons)
    {
        if (now < rules.ValidFromUtc)
        {
            Add(ref reasons, RejectionCode.NotYetValid, "The campaign has not started yet.");
        }

        if (now >= rules.ValidUntilExclusiveUtc)
        {
            Add(ref reasons, RejectionCode.Expired, "The campaign has ended.");
        }

        if (rules.DealerIds.Count > 0 && !rules.DealerIds.Contains(order.DealerId))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The dealer is not in the campaign's allow-list.");
        }

        if (rules.ChannelTiers.Count > 0 && (dealer is null || !rules.ChannelTiers.Contains(dealer.ChannelTier)))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The dealer's channel tier is not eligible for this campaign.");
        }

        if (rules.Regions.Count > 0)
        {
            var region = order.Region ?? BranchRegion(dealer, order.BranchId) ?? dealer?.Region;
            if (region is null || !rules.Regions.Contains(region))
            {
                Add(ref reasons, RejectionCode.NotEligible, "The order's region is not eligible for this campaign.");
            }
        }

        if (rules.CustomerTags.Count > 0 && !AnyIn(order.Customer.Tags, rules.CustomerTags))
        {
            Add(ref reasons, RejectionCode.NotEligible, "The customer has none of the campaign's tags.");
        }
    }

    private static void CheckBundle(BundleRequirements bundle, ReadOnlySpan<long> filled, ref List<Rejection>? reasons)
    {
        if (bundle.Count == 0)
        {
            Add(ref reasons, RejectionCode.NotEligible, "The campaign defines no bundle.");
            return;
        }

        var missing = 0;
        for (var i = 0; i < filled.Length; i++)
        {
            if (filled[i] < bundle.Required[i])
            {
                missing++;
            }
        }

        if (missing > 0)
        {
            Add(ref reasons, RejectionCode.BundleIncomplete,
                $"{missing} of the bundle's {bundle.Count} parts and labour items are missing or short on the order.");
        }
    }

    private static void CheckWarranty(
        WarrantyTerms terms, DealerProfile? dealer, string? key, IReadOnlySet<string>? used, ref List<Rejection>? reasons)
    {
        if (key is null)
        {
            (reasons ??= new List<Rejection>(2)).Add(s_noSerial);
        }
        else if (used is not null && used.Contains(key))
        {
            (reasons ??= new List<Rejection>(2)).Add(s_serialUsed);
        }

        if (dealer is null || !terms.ChannelTiers.Contains(dealer.ChannelTier))
        {
            Add(ref reasons, RejectionCode.NotEligible, "Warranty cover is only for the campaign's channel tiers.");
        }
        else if (terms.MinRank >= 0 && terms.RankOf(dealer.Tags) < terms.MinRank)
        {
            Add(ref reasons, RejectionCode.NotEligible, "The dealer's tier is below the campaign's minimum.");
        }
    }

    /// <summary>
    /// The warranty cover: the discount's percent of each eligible part line, capped per line, the
    /// total capped at MaxAmount. On return <paramref name="weights"/> holds each line's cover, which
    /// the caller allocates the (possibly reduced) total over.
    /// </summary>
    private static long WarrantyCover(WarrantyTerms terms, DiscountDefinition d, OrderLine[] lines, long[] weights)
    {
        long total = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (weights[i] == 0)
            {
                continue;
            }

            var cover = Money.MoneyMath.PercentOf(weights[i], d.Percent);
            if (terms.PerLineCap is { } cap && cover > cap)
            {
                cover = cap;
            }

            weights[i] = Math.Max(0, cover);
            total = checked(total + weights[i]);
        }

        return d.MaxAmount is { } max && total > max ? Math.Max(0, max) : total;
    }

    private static long ApplyMarginMode(
        string mode, decimal floor, long revenue, long cost, long discount, ref List<Rejection>? reasons)
    {
        switch (mode)
        {
            case MarginModes.Cap:
                var max = MarginGuard.MaxDiscount(revenue, cost, floor);
                if (max > 0)
                {
                    return Math.Min(discount, max);
                }

                Add(ref reasons, RejectionCode.MarginFloorBreached,
                    $"No discount keeps the margin at or above the campaign's floor of {floor}%.");
                return 0;
            case MarginModes.Approval:
                Add(ref reasons, RejectionCode.ApprovalRequired,
                    $"The discount would take the margin below the campaign's floor of {floor}%; it needs approval.");
                return discount;
            default:
                Add(ref reasons, RejectionCode.MarginFloorBreached,
                    $"The discount would take the margin below the campaign's floor of {floor}%.");
                return discount;
        }
    }

    private static bool IsEligible(OrderLine line, CompiledRules rules, bool anyInclusion)
    {
        var category = line.Category;
        var included = !anyInclusion
            || rules.Skus.Contains(line.Sku)
            || (category is not null && rules.Categories.Contains(category));
        return included && !IsExcluded(line, rules);
    }

    private static bool IsExcluded(OrderLine line, CompiledRules rules) =>
        (rules.ExcludedSkus.Count > 0 && rules.ExcludedSkus.Contains(line.Sku))
        || (line.Category is { } category && rules.ExcludedCategories.Count > 0 && rules.ExcludedCategories.Contains(category));

    private static string? BranchRegion(DealerProfile? dealer, string? branchId)
    {
        if (dealer is null || branchId is null)
        {
            return null;
        }

        foreach (var branch in dealer.Branches)
        {
            if (string.Equals(branch.Id, branchId, StringComparison.Ordinal))
            {
                return branch.Region;
            }
        }

        return null;
    }

    private static bool AnyIn(string[] values, IReadOnlySet<string> set)
    {
        foreach (var value in values)
        {
            if (value is not null && set.Contains(value))
            {
                return true;
            }
        }

        return false;
    }

    private static void Add(ref List<Rejection>? reasons, RejectionCode code, string message) =>
        (reasons ??= new List<Rejection>(2)).Add(new Rejection(code, message));
}
