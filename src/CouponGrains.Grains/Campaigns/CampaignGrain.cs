using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Codes;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;

namespace CouponGrains.Grains.Campaigns;

/// <summary>
/// A campaign: definition and lifecycle in Orleans storage, the money budget as an escrow cap.
/// Non-reentrant: a hold is evaluated and taken in one turn with no await, so holds never race.
/// </summary>
[GrainType("campaign")]
public sealed class CampaignGrain(
    [PersistentState(StorageNames.CampaignState, StorageNames.Grains)] IPersistentState<CampaignState> state,
    CouponStore coupons,
    RedemptionLedger ledger,
    TimeProvider time) : EscrowGrain(ledger, time), ICampaignGrain
{
    private const int MaxCodesPerRequest = 100_000;
    private CompiledRules? _rules;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Definition is { } definition)
        {
            _rules = CompiledRules.Compile(definition);
            await LoadFromLedgerAsync(() => Ledger.TotalsAsync(CapScope.Campaign, Id), countsAmount: true);
        }
    }

    public async Task<CampaignCommandResult> CreateAsync(CampaignDefinition definition, Actor actor)
    {
        if (state.State.Definition is not null)
        {
            return new() { Status = CommandStatus.Conflict, Code = "campaign_exists", Message = "The campaign exists already." };
        }

        _rules = CompiledRules.Compile(definition);
        state.State.Definition = definition;
        state.State.Status = CampaignStatus.Draft;
        state.State.CreatedAt = Time.GetUtcNow();
        state.State.CreatedBy = actor.KeyId;
        await state.WriteStateAsync();
        return new() { Status = CommandStatus.Done, Campaign = View() };
    }

    public Task<CampaignView?> GetAsync() => Task.FromResult(state.State.Definition is null ? null : View());

    public async Task<CampaignCommandResult> TransitionAsync(LifecycleAction action, string? note, Actor actor)
    {
        if (state.State.Definition is null)
        {
            return new() { Status = CommandStatus.NotFound };
        }

        var from = state.State.Status;
        CampaignStatus? to = (action, from) switch
        {
            (LifecycleAction.Submit, CampaignStatus.Draft or CampaignStatus.Rejected) => CampaignStatus.PendingApproval,
            (LifecycleAction.Approve, CampaignStatus.PendingApproval) => CampaignStatus.Active,
            (LifecycleAction.Reject, CampaignStatus.PendingApproval) => CampaignStatus.Rejected,
            (LifecycleAction.Pause, CampaignStatus.Active) => CampaignStatus.Paused,
            (LifecycleAction.Resume, CampaignStatus.Paused) => CampaignStatus.Active,
            (LifecycleAction.Close, not (CampaignStatus.Closed or CampaignStatus.Rejected)) => CampaignStatus.Closed,
            _ => null,
        };
        if (to is null)
        {
            return new()
            {
                Status = CommandStatus.Conflict,
                Code = "invalid_transition",
                Message = $"Cannot {action.ToString().ToLowerInvariant()} a campaign that is {from.ToWire()}.",
            };
        }

        state.State.Status = to.Value;
        if (action is LifecycleAction.Approve or LifecycleAction.Reject)
        {
            state.State.DecisionNote = note;
        }

        state.State.History.Add(new LifecycleEntry(from, to.Value, actor.KeyId, Time.GetUtcNow(), note));
        await state.WriteStateAsync();
        return new() { Status = CommandStatus.Done, Campaign = View() };
    }

    public async Task<CouponIssueResult> IssueCouponsAsync(CouponIssueRequest request, Actor actor)
    {
        if (state.State.Definition is not { } definition)
        {
            return new() { Status = CommandStatus.NotFound };
        }

        if (state.State.Status is CampaignStatus.Closed or CampaignStatus.Rejected)
        {
            return new() { Status = CommandStatus.Conflict, Code = "campaign_not_active", Message = "The campaign is closed or rejected." };
        }

        if (request.NamedCode is { } named)
        {
            var taken = await coupons.InsertAsync([named], Id, request.DealerId, request.MaxUses ?? definition.Caps.PerCouponUses,
                request.ExpiresAt, named: true, actor);
            return taken.Count == 0
                ? new() { Status = CommandStatus.Done, Codes = [named] }
                : new() { Status = CommandStatus.Conflict, Code = "code_already_exists", Message = $"The code {named} exists already." };
        }

        if (request.Count is < 1 or > MaxCodesPerRequest)
        {
            return new() { Status = CommandStatus.Invalid, Code = "count", Message = $"count must be between 1 and {MaxCodesPerRequest}." };
        }

        // Generated codes are single-use unless the request or the campaign says otherwise.
        var maxUses = request.MaxUses ?? definition.Caps.PerCouponUses ?? 1;
        var codes = new List<string>(request.Count);
        var wanted = request.Count;
        for (var attempt = 0; wanted > 0 && attempt < 5; attempt++)
        {
            var batch = CouponCodes.Generate(request.Prefix, wanted);
            var taken = await coupons.InsertAsync(batch, Id, request.DealerId, maxUses, request.ExpiresAt, named: false, actor);
            var takenSet = taken.ToHashSet(StringComparer.Ordinal);
            codes.AddRange(batch.Where(c => !takenSet.Contains(c)));
            wanted = request.Count - codes.Count;
        }

        return new() { Status = CommandStatus.Done, Codes = codes.ToArray() };
    }

    public Task<CampaignHold> TryHoldAsync(string redemptionId, OrderContext order, DealerProfile? dealer)
    {
        var hold = Evaluate(order, dealer);
        if (hold.Reasons.Length > 0)
        {
            return Task.FromResult(hold);
        }

        if (!TryHold(redemptionId, hold.Discount, state.State.Definition!.Budget))
        {
            return Task.FromResult(hold with { Reasons = [BudgetExhausted] });
        }

        return Task.FromResult(hold with { Held = true });
    }

    public Task<CampaignHold> EvaluateAsync(OrderContext order, DealerProfile? dealer)
    {
        var hold = Evaluate(order, dealer);
        if (hold.Reasons.Length == 0 && !Escrow.CanFit(hold.Discount, state.State.Definition!.Budget))
        {
            hold = hold with { Reasons = [BudgetExhausted] };
        }

        return Task.FromResult(hold);
    }

    private static readonly Rejection BudgetExhausted =
        new(RejectionCode.CampaignBudgetExhausted, "The campaign's budget cannot cover this discount.");

    private CampaignHold Evaluate(OrderContext order, DealerProfile? dealer)
    {
        if (state.State.Definition is not { } definition)
        {
            return new() { Reasons = [new Rejection(RejectionCode.CampaignNotActive, "The campaign does not exist.")] };
        }

        var reasons = new List<Rejection>();
        if (state.State.Status != CampaignStatus.Active)
        {
            reasons.Add(new Rejection(RejectionCode.CampaignNotActive, $"The campaign is {state.State.Status.ToWire()}."));
        }

        var evaluation = CampaignRules.Evaluate(_rules!, definition, order, dealer, Time.GetUtcNow());
        reasons.AddRange(evaluation.Reasons);
        return new()
        {
            Discount = evaluation.Discount,
            Currency = definition.Currency,
            Caps = definition.Caps,
            Reasons = reasons.ToArray(),
        };
    }

    private CampaignView View() => new()
    {
        Id = Id,
        Definition = state.State.Definition!,
        Status = state.State.Status,
        Budget = new BudgetView
        {
            Total = state.State.Definition!.Budget,
            Spent = Escrow.Used,
            Reserved = Escrow.Held,
            Remaining = state.State.Definition.Budget - Escrow.Used - Escrow.Held,
        },
        RedemptionCount = Escrow.Count,
        CreatedAt = state.State.CreatedAt,
        CreatedBy = state.State.CreatedBy,
        DecisionNote = state.State.DecisionNote,
    };
}
