using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// One committed redemption. The ledger row is its state; reversal is a conditional update there
/// (so it happens once, whatever the concurrency), followed by giving back what each cap counted.
/// Every cap applies a restore once per redemption id, and a cap that reloads from the ledger already
/// sees the reversal, so a crash between the two steps leaves every counter right.
/// </summary>
[GrainType("redemption"), CollectionAgeLimit(Minutes = 2)]
public sealed class RedemptionGrain(RedemptionLedger ledger, IGrainFactory grains) : Grain, IRedemptionGrain
{
    private RedemptionRecord? _record;

    private string Id => this.GetPrimaryKeyString();

    public async Task<RedemptionRecord?> GetAsync() => _record ??= (await ledger.FindByIdAsync(Id))?.Record;

    public async Task<RedemptionChange> ReverseAsync(string reason, Actor actor)
    {
        if (await GetAsync() is not { } current)
        {
            return new RedemptionChange { Status = ChangeStatus.NotFound };
        }

        if (current.Status != RedemptionStatuses.Committed)
        {
            // Already reversed: a second reversal changes nothing and answers with the reversed record.
            return new RedemptionChange { Status = ChangeStatus.Done, Redemption = current };
        }

        var reversed = await ledger.ReverseAsync(Id, reason);
        if (reversed is null)
        {
            _record = (await ledger.FindByIdAsync(Id))?.Record;
            return new RedemptionChange { Status = ChangeStatus.Done, Redemption = _record };
        }

        _record = reversed;
        var campaign = grains.GetGrain<ICampaignGrain>(GrainKeys.Campaign(reversed.CampaignId));
        var caps = (await campaign.GetAsync())?.Definition.Caps ?? new CapsDefinition();
        var restores = new List<Task>(5)
        {
            campaign.RestoreAsync(Id, reversed.Discount),
            grains.GetGrain<ICouponGrain>(GrainKeys.Coupon(reversed.Code)).RestoreAsync(Id, 1),
        };
        foreach (var group in MemberCaps.For(caps, reversed.DealerId, reversed.BranchId, reversed.CustomerId, reversed.Discount)
                     .GroupBy(c => c.Slot.Group))
        {
            var shard = grains.GetGrain<ICapShardGrain>(group.First().Slot.ShardKey(reversed.CampaignId));
            restores.Add(shard.RestoreAsync(Id, group.Select(c => new CapRestore(c.Slot.Key, c.Amount)).ToArray()));
        }

        await Task.WhenAll(restores);
        return new RedemptionChange { Status = ChangeStatus.Done, Redemption = reversed };
    }

    public async Task<RedemptionChange> MapInvoiceAsync(InvoiceMapping invoice, Actor actor)
    {
        if (await GetAsync() is not { } current)
        {
            return new RedemptionChange { Status = ChangeStatus.NotFound };
        }

        if (current.Status != RedemptionStatuses.Committed)
        {
            return new RedemptionChange
            {
                Status = ChangeStatus.Conflict, Code = "redemption_reversed", Message = "A reversed redemption cannot be invoiced.",
            };
        }

        if (current.InvoiceNumber is { } existing && existing != invoice.InvoiceNumber)
        {
            return new RedemptionChange
            {
                Status = ChangeStatus.Conflict, Code = "already_invoiced",
                Message = $"The redemption is mapped to invoice {existing} already.",
            };
        }

        var mapped = await ledger.MapInvoiceAsync(Id, invoice);
        _record = mapped ?? (await ledger.FindByIdAsync(Id))?.Record;
        return mapped is null
            ? new RedemptionChange { Status = ChangeStatus.Conflict, Code = "invoice_conflict", Message = "The redemption changed meanwhile; retry." }
            : new RedemptionChange { Status = ChangeStatus.Done, Redemption = mapped };
    }
}
