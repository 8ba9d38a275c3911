using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Discounts;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Storage;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// The dry run of a redemption: the same rules and the live caps, every failing reason collected,
/// nothing held. Stateless, so validations scale across workers and never queue behind redemptions
/// other than for the brief in-memory reads of the cap grains.
/// </summary>
[GrainType("validator"), StatelessWorker]
public sealed class ValidatorGrain(IGrainFactory grains, TimeProvider time, CouponStore coupons, RedemptionLedger ledger, Blacklist blacklist,
    RedemptionCache cache)
    : Grain, IValidatorGrain
{
    /// <summary>The most campaigns a qualification looks at.</summary>
    public const int MaxQualifyingCodes = 50;

    public async Task<ValidationResult> ValidateAsync(OrderContext order) => (await CheckAsync(order)).Result;

    public async Task<StackValidation> ValidateStackAsync(OrderContext order, string[] codes)
    {
        var checks = await Task.WhenAll(codes.Select(code => CheckAsync(order with { Code = code })));
        var candidates = new List<StackCandidate>(checks.Length);
        var unknown = new Dictionary<string, Rejection>(StringComparer.Ordinal);
        for (var i = 0; i < checks.Length; i++)
        {
            var (result, definition) = checks[i];
            // Another dealer's code takes no part in the stack and, like an unknown code, names no campaign.
            var otherDealers = result.Reasons.FirstOrDefault(r => r.Code == RejectionCode.DealerMismatch);
            if (definition is null || otherDealers is not null)
            {
                unknown[codes[i]] = otherDealers ?? result.Reasons[0];
                continue;
            }

            var evaluation = new Evaluation(0, 0, result.Discount, result.Reasons) { LineDiscounts = result.LineDiscounts };
            candidates.Add(new StackCandidate(codes[i], result.CampaignId!, definition, evaluation));
        }

        var stack = StackingResolver.Resolve(order, candidates);
        var byCode = stack.Outcomes.ToDictionary(o => o.Code, StringComparer.Ordinal);
        return new StackValidation
        {
            Codes = codes.Select(code => unknown.TryGetValue(code, out var missing)
                ? new StackCodeResult { Code = code, State = StackState.Rejected.ToWire(), Reason = missing }
                : Outcome(byCode[code])).ToArray(),
            TotalDiscount = stack.TotalDiscount,
            // From the codes that took part only: another dealer's code must not show its campaign's currency.
            Currency = candidates.Select(c => c.Campaign.Currency).FirstOrDefault(),
        };

        static StackCodeResult Outcome(StackOutcome o) => new()
        {
            Code = o.Code,
            CampaignId = o.CampaignId,
            State = o.State.ToWire(),
            Discount = o.State == StackState.Rejected ? 0 : o.Discount,
            LineDiscounts = o.State == StackState.Rejected ? [] : o.LineDiscounts,
            Reason = o.Reason,
        };
    }

    public async Task<ValidationResult[]> QualifyAsync(OrderContext order)
    {
        var codes = await coupons.QualifyingCodesAsync(order.DealerId, MaxQualifyingCodes);
        var checks = await Task.WhenAll(codes.Select(code => CheckAsync(order with { Code = code })));
        return checks.Select((c, i) => c.Result with { Code = codes[i] })
            .OrderByDescending(r => r.Valid).ThenByDescending(r => r.Discount)
            .ToArray();
    }

    public async Task<RebateView?> RebateAsync(string campaignId, string dealerId)
    {
        var campaign = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId)).GetAsync();
        if (campaign?.Definition is not { Kind: CampaignKinds.RetroRebate } definition)
        {
            return null;
        }

        var purchases = await ledger.EligiblePurchasesAsync(campaignId, dealerId);
        var accrual = RetroRebate.Accrue([], purchases.Sum(), definition.Discount.Slabs);
        var next = definition.Discount.Slabs.Where(s => s.From > accrual.CumulativeAfter).MinBy(s => s.From);
        return new RebateView
        {
            CampaignId = campaignId,
            DealerId = dealerId,
            Purchases = purchases.Count,
            Cumulative = accrual.CumulativeAfter,
            Percent = accrual.PercentAfter,
            Accrued = accrual.AccruedAfter,
            NextThreshold = next?.From,
            NextPercent = next?.Percent,
            Currency = definition.Currency,
        };
    }

    /// <summary>The dry run of one code, with the campaign definition it was checked against (null when the code is unknown).</summary>
    private async Task<(ValidationResult Result, CampaignDefinition? Definition)> CheckAsync(OrderContext order)
    {
        // As on the redemption path, dealer profiles and coupons with unlimited uses come from the silo's cache: a public
        // code validated at every order entry would otherwise queue every validation on its one coupon grain.
        var dealerTask = cache.DealerAsync(grains, order.DealerId);
        var coupon = cache.UnlimitedCoupon(order.Code);
        if (coupon is null)
        {
            // Remembered only when asked: a hit must not renew its own entry, or a busy code would never be asked again.
            coupon = await grains.Ref<ICouponGrain>(GrainKeys.Coupon(order.Code)).GetAsync();
            if (coupon is { MaxUses: null })
            {
                cache.RememberUnlimited(coupon);
            }
        }

        if (coupon is null)
        {
            return (new ValidationResult { Reasons = [new Rejection(RejectionCode.CouponNotFound, "No such coupon code.")] }, null);
        }

        var reasons = new List<Rejection>();
        if (await blacklist.CheckAsync(order.DealerId, order.Customer.Id, order.Code) is { } blocked)
        {
            reasons.Add(blocked);
        }

        if (CouponRules.DealerRefusal(coupon.DealerId, order.DealerId) is { } otherDealer)
        {
            reasons.Add(otherDealer);
        }

        if (CouponRules.ExpiryRefusal(coupon.ExpiresAt, time.GetUtcNow()) is { } expired)
        {
            reasons.Add(expired);
        }

        if (coupon.MaxUses is { } max && coupon.Uses >= max)
        {
            reasons.Add(new Rejection(RejectionCode.CouponUsesExhausted, "This coupon has no uses left."));
        }

        var campaignId = coupon.CampaignId;
        var evaluation = await grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId)).EvaluateAsync(order, await dealerTask);
        reasons.AddRange(evaluation.Reasons);
        var subject = new CapSubject(order.DealerId, order.BranchId, order.Customer.Id, order.OrderId, evaluation.WarrantyKey);
        var memberCaps = evaluation.Definition is { } definition
            ? MemberCaps.For(campaignId, definition, time.GetUtcNow(), subject, evaluation.Discount)
            : [];
        // Like the coupon's uses and the campaign's budget, a cap refuses here only when its committed total leaves no
        // room: holds in flight may be released, and a redemption would wait for them rather than be refused. One call
        // per shard (a dealer's caps share one, a customer's another), the shards in parallel.
        var shards = memberCaps.GroupBy(c => c.Slot.ShardKey).Select(g => g.ToArray()).ToArray();
        var usages = await Task.WhenAll(shards.Select(caps =>
            grains.Ref<ICapShardGrain>(caps[0].Slot.ShardKey).GetUsagesAsync(Array.ConvertAll(caps, c => c.Slot.Key))));
        for (var s = 0; s < shards.Length; s++)
        {
            for (var i = 0; i < shards[s].Length; i++)
            {
                if (usages[s][i].Used + shards[s][i].Amount > shards[s][i].Limit)
                {
                    reasons.Add(shards[s][i].Refusal);
                }
            }
        }

        return (new ValidationResult
        {
            Valid = reasons.Count == 0,
            Discount = reasons.Count == 0 ? evaluation.Discount : 0,
            Currency = evaluation.Currency,
            Reasons = reasons.ToArray(),
            CampaignId = campaignId,
            LineDiscounts = reasons.Count == 0 ? evaluation.LineDiscounts : [],
        }, evaluation.Definition);
    }
}
