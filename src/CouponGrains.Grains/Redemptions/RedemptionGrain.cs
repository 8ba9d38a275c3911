using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Analytics;
using CouponGrains.Domain.Discounts;
using CouponGrains.Grains.Audit;
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
public sealed class RedemptionGrain(RedemptionLedger ledger, IGrainFactory grains, AuditLog audit) : Grain, IRedemptionGrain
{
    private RedemptionRecord? _record;

    private string Id => this.GetPrimaryKeyString();

    public async Task<RedemptionRecord?> GetAsync() => _record ??= (await ledger.FindByIdAsync(Id))?.Record;

    public async Task<RedemptionChange> ReverseAsync(string reason, ReturnedQuantity[]? returns, Actor actor)
    {
        if (await GetAsync() is not { } current)
        {
            return new RedemptionChange { Status = ChangeStatus.NotFound };
        }

        if (current.Status != RedemptionStatuses.Committed)
        {
            // Already reversed: a second reversal changes nothing and answers with the reversed record.
            return returns is null
                ? new RedemptionChange { Status = ChangeStatus.Done, Redemption = current }
                : new RedemptionChange { Status = ChangeStatus.Conflict, Code = "already_reversed", Message = "The redemption is wholly reversed." };
        }

        if (Plan(current, returns) is not { } plan)
        {
            return new RedemptionChange
            {
                Status = ChangeStatus.Invalid,
                Code = "lines",
                Message = "Each returned line must be a discounted line of this redemption, returned at most once per unit it was for.",
            };
        }

        // The audit row goes into the reversal's own statement, so it needs the record as the reversal leaves it.
        var after = current with
        {
            Status = plan.Completes ? RedemptionStatuses.Reversed : current.Status,
            ReversedDiscount = current.ReversedDiscount + plan.Amount,
            Reversals = current.Reversals + 1,
            Lines = plan.Lines,
        };
        var entry = Audited(actor, plan.Completes ? AuditNames.Reversed : AuditNames.PartiallyReturned, current, after, reason);
        var reversed = await ledger.ApplyReversalAsync(Id, current.Reversals, plan.Amount, plan.Completes, plan.Lines,
            LineAnalytics.Returned(current.Lines, plan.Lines), reason, entry);
        if (reversed is null)
        {
            // Another reversal got there first; answer with what the ledger now says.
            _record = (await ledger.FindByIdAsync(Id))?.Record;
            return new RedemptionChange { Status = ChangeStatus.Conflict, Code = "reversal_conflict", Message = "The redemption changed meanwhile; read it and retry.", Redemption = _record };
        }

        _record = reversed;
        audit.RequestSeal();
        await RestoreAsync(reversed, plan.Amount, plan.Completes);
        return new RedemptionChange { Status = ChangeStatus.Done, Redemption = reversed };
    }

    private sealed record ReversalPlan(long Amount, bool Completes, RedemptionLine[] Lines);

    /// <summary>
    /// What a reversal gives back: the rest of every line for a whole reversal, else the proportional
    /// share of the returned units (see <see cref="PartialReturns"/>). Null when a return does not fit.
    /// </summary>
    private static ReversalPlan? Plan(RedemptionRecord current, ReturnedQuantity[]? returns)
    {
        var lines = current.Lines;
        var now = new long[lines.Length];
        if (returns is null)
        {
            if (lines.Length == 0)
            {
                // Recorded without lines: the whole remaining discount comes back at once.
                return new ReversalPlan(current.Discount - current.ReversedDiscount, true, lines);
            }

            for (var i = 0; i < lines.Length; i++)
            {
                now[i] = lines[i].Quantity - lines[i].ReturnedQuantity;
            }
        }
        else
        {
            foreach (var back in returns)
            {
                var index = Array.FindIndex(lines, l => l.Line == back.Line);
                if (index < 0 || back.Quantity < 1 || back.Quantity > lines[index].Quantity - lines[index].ReturnedQuantity - now[index])
                {
                    return null;
                }

                now[index] += back.Quantity;
            }
        }

        var restoration = PartialReturns.Restore(lines
            .Select((l, i) => new ReturnLine(l.Discount, l.Quantity, l.ReturnedQuantity, now[i]))
            .ToArray());
        var updated = lines
            .Select((l, i) => l with { ReturnedQuantity = l.ReturnedQuantity + now[i], RestoredDiscount = l.RestoredDiscount + restoration.LineRestores[i] })
            .ToArray();
        return new ReversalPlan(restoration.Total, restoration.CompletesReversal, updated);
    }

    /// <summary>
    /// Gives back what this reversal took from every cap: money each time, counts only when the
    /// redemption is now wholly reversed. Each cap applies a restore once per '{id}#{n}'.
    /// </summary>
    private async Task RestoreAsync(RedemptionRecord reversed, long amount, bool completes)
    {
        var restoreId = CapTotalsReader.RestoreId(Id, reversed.Reversals);
        var campaign = grains.Ref<ICampaignGrain>(GrainKeys.Campaign(reversed.CampaignId));
        var definition = (await campaign.GetAsync())?.Definition;
        var restores = new List<Task>(5) { campaign.RestoreAsync(Id, restoreId, amount, completes, reversed.RedeemedAt) };
        if (completes)
        {
            restores.Add(grains.Ref<ICouponGrain>(GrainKeys.Coupon(reversed.Code)).RestoreAsync(Id, restoreId, 1));
        }

        if (definition is not null)
        {
            var subject = new CapSubject(reversed.DealerId, reversed.BranchId, reversed.CustomerId, reversed.OrderId, reversed.WarrantyKey);
            var caps = MemberCaps.For(reversed.CampaignId, definition, reversed.RedeemedAt, subject, reversed.Discount)
                .Where(c => completes || c.Slot.CountsAmount)
                .ToList();
            foreach (var group in caps.GroupBy(c => c.Slot.ShardKey))
            {
                var shard = grains.Ref<ICapShardGrain>(group.Key);
                var slots = group.Select(c => new CapRestore(c.Slot.Key, c.Slot.CountsAmount ? amount : c.Amount)).ToArray();
                restores.Add(shard.RestoreAsync(Id, restoreId, slots, completes));
            }
        }

        await Task.WhenAll(restores);
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

        // The ledger writes the audit row with the first mapping only, in the mapping's own statement.
        var after = current with { InvoiceNumber = invoice.InvoiceNumber, InvoiceDate = invoice.InvoiceDate };
        var mapped = await ledger.MapInvoiceAsync(Id, invoice, Audited(actor, AuditNames.Invoiced, current, after, note: null));
        _record = mapped ?? (await ledger.FindByIdAsync(Id))?.Record;
        if (mapped is null)
        {
            return new RedemptionChange { Status = ChangeStatus.Conflict, Code = "invoice_conflict", Message = "The redemption changed meanwhile; retry." };
        }

        audit.RequestSeal();
        return new RedemptionChange { Status = ChangeStatus.Done, Redemption = mapped };
    }

    /// <summary>
    /// One audit row per change (the ledger is the record of truth; the audit row says who did it and why), written
    /// by the change's own statement so that the two commit together. The redemption itself is audited by its ledger row.
    /// </summary>
    private AuditEntry Audited(Actor actor, string action, RedemptionRecord before, RedemptionRecord after, string? note) =>
        AuditEntry.For(actor, action, AuditNames.Redemption, Id) with
        {
            Note = note,
            Before = AuditJson.Of(Money(before)),
            After = AuditJson.Of(Money(after)),
        };

    private static object Money(RedemptionRecord r) => new
    {
        r.Status, r.Discount, r.ReversedDiscount, r.Reversals, r.InvoiceNumber, r.InvoiceDate,
        lines = r.Lines.Select(l => new { l.Line, l.ReturnedQuantity, l.RestoredDiscount }),
    };
}
