using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Caps;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// The dry run of a redemption: the same rules and the live caps, every failing reason collected,
/// nothing held. Stateless, so validations scale across workers and never queue behind redemptions
/// other than for the brief in-memory reads of the cap grains.
/// </summary>
[GrainType("validator"), StatelessWorker]
public sealed class ValidatorGrain(IGrainFactory grains, TimeProvider time) : Grain, IValidatorGrain
{
    public async Task<ValidationResult> ValidateAsync(OrderContext order)
    {
        var dealerTask = grains.GetGrain<IDealerGrain>(GrainKeys.Dealer(order.DealerId)).GetAsync();
        var coupon = await grains.GetGrain<ICouponGrain>(GrainKeys.Coupon(order.Code)).GetAsync();
        if (coupon is null)
        {
            return new ValidationResult { Reasons = [new Rejection(RejectionCode.CouponNotFound, "No such coupon code.")] };
        }

        var reasons = new List<Rejection>();
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
        var evaluation = await grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(campaignId)).EvaluateAsync(order, await dealerTask);
        reasons.AddRange(evaluation.Reasons);
        var caps = evaluation.Caps;
        foreach (var cap in MemberCaps.For(caps, order.DealerId, order.BranchId, order.Customer.Id, evaluation.Discount))
        {
            var usage = await grains.GetGrain<ICapShardGrain>(cap.Slot.ShardKey(campaignId)).GetUsageAsync(cap.Slot.Key);
            if (usage.Used + usage.Held + cap.Amount > cap.Limit)
            {
                reasons.Add(cap.Refusal);
            }
        }

        return new ValidationResult
        {
            Valid = reasons.Count == 0,
            Discount = reasons.Count == 0 ? evaluation.Discount : 0,
            Currency = evaluation.Currency,
            Reasons = reasons.ToArray(),
            CampaignId = campaignId,
        };
    }
}
