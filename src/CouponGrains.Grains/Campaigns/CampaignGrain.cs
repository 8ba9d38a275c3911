using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Caps;
using CouponGrains.Domain.Codes;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Approvals;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Options;

namespace CouponGrains.Grains.Campaigns;

/// <summary>
/// A campaign: definition and lifecycle in Orleans storage, the money budget as an escrow cap.
/// Non-reentrant: a hold is evaluated and taken in one turn with no await, so holds never race.
/// Every command is audited after its state is written (grain storage and the audit table cannot share
/// a transaction; a failed audit write fails the call, so the caller learns of it).
/// </summary>
[GrainType("campaign")]
public sealed class CampaignGrain(
    [PersistentState(StorageNames.CampaignState, StorageNames.Grains)] IPersistentState<CampaignState> state,
    CouponStore coupons,
    RedemptionLedger ledger,
    TimeProvider time,
    AuditLog audit,
    IOptions<ApprovalOptions> approvalOptions) : EscrowGrain(ledger, time), ICampaignGrain
{
    private const int MaxCodesPerRequest = 100_000;
    private CompiledRules? _rules;
    private readonly Dictionary<string, (PeriodCapHold Period, Escrow Escrow)> _periods = new(StringComparer.Ordinal);

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

        await EnsureFenceAsync();
        _rules = CompiledRules.Compile(definition);
        state.State.Definition = definition;
        state.State.Status = CampaignStatus.Draft;
        state.State.CreatedAt = Time.GetUtcNow();
        state.State.CreatedBy = actor.KeyId;
        await state.WriteStateAsync();
        await AuditAsync(actor, AuditNames.Created, null, Snapshot(withDefinition: true));
        return new() { Status = CommandStatus.Done, Campaign = View() };
    }

    public Task<CampaignView?> GetAsync() => Task.FromResult(state.State.Definition is null ? null : View());

    public Task<CampaignCommandResult> TransitionAsync(LifecycleAction action, string? note, Actor actor) =>
        TransitionWithAsync(action, new TransitionRequest { Note = note }, actor);

    public async Task<CampaignCommandResult> TransitionWithAsync(LifecycleAction action, TransitionRequest request, Actor actor)
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

        var before = Snapshot(withDefinition: false);
        var auditAction = action switch
        {
            LifecycleAction.Submit => AuditNames.Submitted,
            LifecycleAction.Approve => AuditNames.Approved,
            LifecycleAction.Reject => AuditNames.Rejected,
            LifecycleAction.Pause => AuditNames.Paused,
            LifecycleAction.Resume => AuditNames.Resumed,
            _ => AuditNames.Closed,
        };
        var now = Time.GetUtcNow();
        switch (action)
        {
            case LifecycleAction.Submit:
                state.State.SubmittedBy = actor.KeyId;
                state.State.Approvals = [];
                if (request.Catalogue is { } catalogue)
                {
                    state.State.Catalogue = catalogue;
                }

                break;
            case LifecycleAction.Approve:
                if (ApprovalRefusal(actor) is { } refusal)
                {
                    return refusal;
                }

                state.State.Approvals.Add(new CampaignApprovalEntry(actor.KeyId, actor.Role, now, request.Note));
                if (state.State.Approvals.Count < ApprovalsRequired())
                {
                    // Approved by one, waiting for the next: the campaign stays pending.
                    to = CampaignStatus.PendingApproval;
                    auditAction = AuditNames.PartiallyApproved;
                }

                break;
        }

        state.State.Status = to.Value;
        if (action is LifecycleAction.Approve or LifecycleAction.Reject)
        {
            state.State.DecisionNote = request.Note;
        }

        state.State.History.Add(new LifecycleEntry(from, to.Value, actor.KeyId, now, request.Note));
        await state.WriteStateAsync();
        await AuditAsync(actor, auditAction, before, Snapshot(withDefinition: false), request.ReasonCode, request.Note);
        return new() { Status = CommandStatus.Done, Campaign = View(), Approval = ApprovalView() };
    }

    /// <summary>Why this actor may not add an approval now; null when they may.</summary>
    private CampaignCommandResult? ApprovalRefusal(Actor actor)
    {
        var approvals = state.State.Approvals;
        if (approvalOptions.Value.SeparationOfDuties)
        {
            if (actor.KeyId == state.State.CreatedBy || actor.KeyId == state.State.SubmittedBy)
            {
                return Forbidden("own_campaign", "Nobody approves a campaign they created or submitted.");
            }

            if (approvals.Any(a => a.ActorKeyId == actor.KeyId))
            {
                return Forbidden("already_approved", "This key has approved this campaign already; another approver must.");
            }
        }

        // The last approval required must bring an admin in when two are required.
        var required = ApprovalsRequired();
        if (required > 1 && approvals.Count == required - 1 && actor.Role != Roles.Admin && approvals.All(a => a.Role != Roles.Admin))
        {
            return Forbidden("admin_approval_required",
                $"A budget above {approvalOptions.Value.SecondApproverAbove} needs an admin among its {required} approvers.");
        }

        return null;

        static CampaignCommandResult Forbidden(string code, string message) =>
            new() { Status = CommandStatus.Forbidden, Code = code, Message = message };
    }

    private int ApprovalsRequired() =>
        approvalOptions.Value.SecondApproverAbove is { } threshold && state.State.Definition!.Budget > threshold ? 2 : 1;

    public async Task<CampaignCommandResult> UpdateAsync(CampaignDefinition definition, Actor actor)
    {
        if (state.State.Definition is not { } current)
        {
            return new() { Status = CommandStatus.NotFound };
        }

        var status = state.State.Status;
        if (status == CampaignStatus.Closed)
        {
            return new() { Status = CommandStatus.Conflict, Code = "campaign_closed", Message = "A closed campaign cannot be changed." };
        }

        var editable = status is CampaignStatus.Draft or CampaignStatus.Rejected;
        if (!editable && (definition.Currency != current.Currency || definition.Kind != current.Kind))
        {
            return new()
            {
                Status = CommandStatus.Conflict,
                Code = "immutable_field",
                Message = "currency and kind can change only while the campaign is a draft or rejected.",
            };
        }

        var before = Snapshot(withDefinition: true);
        var moneyChanged = MoneyTerms(definition) != MoneyTerms(current);
        state.State.Definition = definition;
        _rules = CompiledRules.Compile(definition);
        if (moneyChanged && status is CampaignStatus.Active or CampaignStatus.Paused or CampaignStatus.PendingApproval)
        {
            // Approvals were given for other money terms: a new round, with the editor as its submitter.
            state.State.Status = CampaignStatus.PendingApproval;
            state.State.SubmittedBy = actor.KeyId;
            state.State.Approvals = [];
            state.State.History.Add(new LifecycleEntry(status, CampaignStatus.PendingApproval, actor.KeyId, Time.GetUtcNow(),
                "money terms changed"));
        }

        await state.WriteStateAsync();
        await AuditAsync(actor, AuditNames.Updated, before, Snapshot(withDefinition: true),
            note: moneyChanged && status != CampaignStatus.Draft && status != CampaignStatus.Rejected ? "money terms changed: approval required" : null);
        return new() { Status = CommandStatus.Done, Campaign = View(), Approval = ApprovalView() };
    }

    /// <summary>The terms finance approves, as comparable text (records holding arrays do not compare by value).</summary>
    private static string MoneyTerms(CampaignDefinition d) =>
        AuditJson.Of(new { d.Budget, d.Discount, d.Caps, d.MarginFloorPercent, d.MarginMode, d.PeriodCaps })!;

    public Task<CampaignApprovalView?> GetApprovalAsync() =>
        Task.FromResult(state.State.Definition is null ? null : ApprovalView());

    public Task<CampaignProjection?> ProjectAsync(CatalogueItem[]? catalogue) =>
        Task.FromResult(state.State.Definition is { } definition
            ? CampaignProjector.Project(definition, catalogue ?? state.State.Catalogue)
            : null);

    private CampaignApprovalView ApprovalView() => new()
    {
        Status = state.State.Status,
        CreatedBy = state.State.CreatedBy,
        SubmittedBy = state.State.SubmittedBy,
        ApprovalsRequired = ApprovalsRequired(),
        Approvals = state.State.Approvals.ToArray(),
        Catalogue = state.State.Catalogue,
    };

    private object Snapshot(bool withDefinition) => withDefinition
        ? new { status = state.State.Status.ToWire(), approvals = state.State.Approvals.ToArray(), definition = state.State.Definition }
        : new { status = state.State.Status.ToWire(), approvals = state.State.Approvals.ToArray() };

    private Task AuditAsync(Actor actor, string action, object? before, object? after, string? reasonCode = null, string? note = null) =>
        audit.AppendAsync(AuditEntry.For(actor, action, AuditNames.Campaign, Id) with
        {
            ReasonCode = reasonCode,
            Note = note,
            Before = AuditJson.Of(before),
            After = AuditJson.Of(after),
        }, CancellationToken.None);

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
            if (taken.Count > 0)
            {
                return new() { Status = CommandStatus.Conflict, Code = "code_already_exists", Message = $"The code {named} exists already." };
            }

            await AuditIssuedAsync(actor, request, [named]);
            return new() { Status = CommandStatus.Done, Codes = [named] };
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

        await AuditIssuedAsync(actor, request with { MaxUses = maxUses }, codes);
        return new() { Status = CommandStatus.Done, Codes = codes.ToArray() };
    }

    /// <summary>One audit row per issuance: its terms and count, and the codes themselves when there are few.</summary>
    private Task AuditIssuedAsync(Actor actor, CouponIssueRequest request, IReadOnlyList<string> codes) =>
        audit.AppendAsync(AuditEntry.For(actor, AuditNames.Issued, AuditNames.Coupons, Id) with
        {
            After = AuditJson.Of(new
            {
                campaignId = Id,
                count = codes.Count,
                request.Prefix,
                request.DealerId,
                request.MaxUses,
                request.ExpiresAt,
                codes = codes.Count <= 100 ? codes : null,
            }),
        }, CancellationToken.None);

    public async Task<CampaignHold> TryHoldAsync(string redemptionId, OrderContext order, DealerProfile? dealer, bool approved)
    {
        var hold = Evaluate(order, dealer);
        if (approved && hold.Reasons.Length > 0 && hold.Reasons.All(r => r.Code == RejectionCode.ApprovalRequired))
        {
            hold = hold with { Reasons = [] };
        }

        if (hold.Reasons.Length > 0)
        {
            return hold;
        }

        // Campaign-wide caps per day, week or month: loaded from the ledger once per period. The grain
        // is not reentrant, so nothing else runs between this await and the checks below.
        // A cap whose committed total leaves no room refuses outright. One filled only by holds in flight refuses
        // as contended, and only when no other cap refuses outright: the coordinator may wait for those holds.
        var periods = await PeriodEscrowsAsync(Time.GetUtcNow());
        var budget = state.State.Definition!.Budget;
        Rejection? contended = null;
        switch (Escrow.Fit(hold.Discount, budget))
        {
            case CapFit.Exceeded:
                return hold with { Reasons = [BudgetExhausted] };
            case CapFit.Held:
                contended = BudgetExhausted;
                break;
        }

        foreach (var (period, escrow) in periods)
        {
            switch (escrow.Fit(AmountIn(period, hold.Discount), period.Limit))
            {
                case CapFit.Exceeded:
                    return hold with { Reasons = [PeriodCapReached(period)] };
                case CapFit.Held:
                    contended ??= PeriodCapReached(period);
                    break;
            }
        }

        if (contended is not null)
        {
            return hold with { Reasons = [contended], Contended = true };
        }

        TryHold(redemptionId, hold.Discount, budget);
        var deadline = UtcNow + HoldTimeout;
        foreach (var (period, escrow) in periods)
        {
            escrow.TryHold(redemptionId, AmountIn(period, hold.Discount), period.Limit, deadline);
        }

        return hold with { Held = true, Fence = Fence!.Value };
    }

    public async Task<CampaignHold> EvaluateAsync(OrderContext order, DealerProfile? dealer)
    {
        var hold = Evaluate(order, dealer);
        if (hold.Reasons.Length > 0)
        {
            return hold;
        }

        // A dry run refuses only what a redemption would refuse outright: holds in flight may still be released.
        if (Escrow.Fit(hold.Discount, state.State.Definition!.Budget) == CapFit.Exceeded)
        {
            return hold with { Reasons = [BudgetExhausted] };
        }

        foreach (var (period, escrow) in await PeriodEscrowsAsync(Time.GetUtcNow()))
        {
            if (escrow.Fit(AmountIn(period, hold.Discount), period.Limit) == CapFit.Exceeded)
            {
                return hold with { Reasons = [PeriodCapReached(period)] };
            }
        }

        return hold;
    }

    public Task RestoreAsync(string redemptionId, string restoreId, long amount, bool completes, DateTimeOffset redeemedAt)
    {
        var now = UtcNow;
        Escrow.Restore(redemptionId, restoreId, amount, now, completes);
        foreach (var (period, escrow) in _periods.Values)
        {
            if (period.Period.Contains(redeemedAt) && (completes || period.Measure == PeriodCapTerms.Amount))
            {
                escrow.Restore(redemptionId, restoreId, AmountIn(period, amount), now, completes);
            }
        }

        return Task.CompletedTask;
    }

    protected override IEnumerable<Escrow> OtherEscrows => _periods.Values.Select(p => p.Escrow);

    /// <summary>The campaign's per-period caps in force at <paramref name="now"/>, each with its escrow.</summary>
    private async Task<List<(PeriodCapHold Period, Escrow Escrow)>> PeriodEscrowsAsync(DateTimeOffset now)
    {
        var definition = state.State.Definition!;
        if (definition.PeriodCaps.Length == 0)
        {
            return [];
        }

        var list = new List<(PeriodCapHold, Escrow)>();
        foreach (var period in PeriodCaps.Resolve(definition, _rules!.TimeZone, now))
        {
            if (period.Scope != PeriodCapTerms.CampaignScope)
            {
                continue;
            }

            var key = $"{period.CapName}/{period.PeriodKey}";
            if (!_periods.TryGetValue(key, out var known))
            {
                var totals = await Ledger.TotalsAsync(CapScope.Campaign, Id, from: period.Period.StartUtc, to: period.Period.EndUtc);
                var escrow = new Escrow();
                escrow.Load(period.Measure == PeriodCapTerms.Amount ? totals.Amount : totals.Count, totals.Count, totals.RecentlyReversed, UtcNow);
                DropEndedPeriods(now);
                _periods[key] = known = (period, escrow);
            }

            list.Add(known);
        }

        return list;
    }

    /// <summary>A period that has ended and holds nothing is never asked about again.</summary>
    private void DropEndedPeriods(DateTimeOffset now)
    {
        foreach (var (key, (period, escrow)) in _periods)
        {
            if (period.Period.EndUtc <= now && escrow.PendingHolds == 0)
            {
                _periods.Remove(key);
            }
        }
    }

    private static long AmountIn(PeriodCapHold period, long discount) =>
        period.Measure == PeriodCapTerms.Amount ? discount : 1;

    private static Rejection PeriodCapReached(PeriodCapHold period) =>
        new(RejectionCode.PeriodCapReached,
            $"The campaign's {period.Measure} cap {period.CapName} for {period.Period.Key} is reached.");

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
        if (reasons.Count == 0 && definition.ApprovalAbove is { } threshold && evaluation.Discount > threshold)
        {
            reasons.Add(new Rejection(RejectionCode.ApprovalRequired,
                $"A discount of {evaluation.Discount} is above the campaign's high-value threshold of {threshold}: it needs an approval."));
        }
        return new()
        {
            Discount = evaluation.Discount,
            Currency = definition.Currency,
            Caps = definition.Caps,
            Reasons = reasons.ToArray(),
            Definition = definition,
            LineDiscounts = evaluation.LineDiscounts,
            WarrantyKey = evaluation.WarrantyKey,
            EligibleValue = evaluation.EligibleValue,
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
