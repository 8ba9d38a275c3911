using System.Diagnostics;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Orders;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Rules;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Fraud;
using CouponGrains.Grains.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Redemptions;

/// <summary>
/// Coordinates redemptions for one shard of idempotency keys. The path: hold the coupon's use, evaluate
/// and hold the campaign budget, hold the dealer, branch and customer caps in parallel, append to the
/// ledger (group-committed, the one durable step; the ledger then confirms the holds of the whole batch,
/// one message per grain). Any refusal releases every
/// hold taken; a refusal only by holds in flight is tried again after a short wait (see <see cref="WaitForHeldCapacity"/>).
/// If the ledger outcome is unknown the holds stay and resolve against the ledger.
/// </summary>
/// <remarks>
/// Reentrant: attempts with different keys interleave at every await. The coordinator owns no cap
/// state (the cap grains do), so the only invariant it keeps across awaits is "one attempt per key at a
/// time": <see cref="_inFlight"/> is checked and set in one turn, and a duplicate awaits the attempt in
/// flight instead of starting its own. The ledger's unique key is the final arbiter either way.
/// </remarks>
[GrainType("redeem"), Reentrant]
public sealed class RedeemGrain(RedemptionLedger ledger, Blacklist blacklist, RedemptionCache cache, HeldCapacityWaits waits,
    RedemptionTimings timings, IGrainFactory grains, TimeProvider time, ILogger<RedeemGrain> logger)
    : Grain, IRedeemGrain
{
    /// <summary>
    /// How long a key that succeeded is remembered for duplicates that arrive together (a double submit, a retry on
    /// a dropped connection): they are answered from the ledger without taking any hold. A later one is tried in full,
    /// and the ledger's unique key answers it. Kept short because every remembered key outlives a gen0 collection: at
    /// 1,300 redemptions a second, 5 s had meant 12,000 results, and gen1 collections promoted 14 MB instead of the
    /// 7–9 MB they promoted with 1 s.
    /// </summary>
    private static readonly TimeSpan s_remember = TimeSpan.FromSeconds(1);

    /// <summary>How long a redemption waits, in all, for holds in flight that fill a cap with room in its committed total.</summary>
    public static readonly TimeSpan WaitForHeldCapacity = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, Task<(string RequestHash, RedeemResult Result)>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// Keys that succeeded in the last second, with their request's hash: only that, not the result, because a
    /// result holds the redemption and its request's strings, and at 1,300 redemptions a second those were most of
    /// what survived each gen0 collection. A duplicate reads its redemption back from the ledger.
    /// </summary>
    private readonly Dictionary<string, (string RequestHash, DateTimeOffset At)> _recent = new(StringComparer.Ordinal);

    /// <summary>When <see cref="_recent"/> was last swept: by the calls themselves, at most once a second.</summary>
    private DateTimeOffset _sweptAt;

    public async Task<RedeemResult> RedeemAsync(string dealerId, string idempotencyKey, OrderContext order, string requestHash, Actor actor)
    {
        var id = $"{dealerId}{GrainKeys.Separator}{idempotencyKey}";
        if (_recent.TryGetValue(id, out var known))
        {
            if (!string.Equals(known.RequestHash, requestHash, StringComparison.Ordinal))
            {
                return new RedeemResult { Status = RedeemStatus.KeyReused };
            }

            if (await ExistingAsync(dealerId, idempotencyKey, requestHash) is { } existing)
            {
                return existing;
            }
        }

        if (_inFlight.TryGetValue(id, out var running))
        {
            var (firstHash, first) = await running;
            if (first.Status is RedeemStatus.Created or RedeemStatus.Replayed)
            {
                return Answer(firstHash, first, requestHash);
            }

            // The first attempt was refused or is unresolved: this one tries for itself.
        }

        var attempt = AttemptAsync(dealerId, idempotencyKey, order, requestHash, actor);
        _inFlight[id] = attempt;
        try
        {
            var (_, result) = await attempt;
            if (result.Status is RedeemStatus.Created or RedeemStatus.Replayed)
            {
                var now = time.GetUtcNow();
                _recent[id] = (requestHash, now);
                ForgetOldOutcomes(now);
            }

            return result;
        }
        finally
        {
            if (_inFlight.TryGetValue(id, out var current) && current == attempt)
            {
                _inFlight.Remove(id);
            }
        }
    }

    /// <summary>
    /// The answer of a coupon with unlimited uses seen in the last seconds, checked here as its grain
    /// would (dealer binding, expiry); null when it must be asked.
    /// </summary>
    private CouponHoldResult? UnlimitedCoupon(OrderContext order)
    {
        if (cache.UnlimitedCoupon(order.Code) is not { } coupon)
        {
            return null;
        }

        return CouponRules.FirstRefusal(coupon.DealerId, coupon.ExpiresAt, order.DealerId, time.GetUtcNow()) is { } refusal
            ? new CouponHoldResult { Rejection = refusal }
            : new CouponHoldResult { Coupon = coupon };
    }

    private static RedeemResult Answer(string firstHash, RedeemResult first, string requestHash) =>
        string.Equals(firstHash, requestHash, StringComparison.Ordinal)
            ? first with { Status = RedeemStatus.Replayed }
            : new RedeemResult { Status = RedeemStatus.KeyReused };

    /// <summary>
    /// Forgets the outcomes older than <see cref="s_remember"/>, at most once per that long, on the call that remembers
    /// one more, rather than on a timer per coordinator (256 ticks a second under load, each a turn of its own). A key
    /// is kept one to two seconds either way; a coordinator no longer called keeps those until it is deactivated. What
    /// is remembered only spares the holds: a duplicate is answered from the ledger however old its entry is.
    /// </summary>
    private void ForgetOldOutcomes(DateTimeOffset now)
    {
        if (now - _sweptAt < s_remember)
        {
            return;
        }

        _sweptAt = now;
        var horizon = now - s_remember;
        foreach (var (id, entry) in _recent)
        {
            if (entry.At < horizon)
            {
                _recent.Remove(id);
            }
        }
    }

    private async Task<(string, RedeemResult)> AttemptAsync(string scope, string key, OrderContext order, string requestHash, Actor actor) =>
        (requestHash, await RedeemOnceAsync(scope, key, order, requestHash, actor));

    /// <summary>
    /// Tries the redemption, and tries again while it is refused only because holds of other redemptions in flight
    /// fill a cap whose committed total leaves room: those holds are confirmed or released within a ledger commit or
    /// so, and refusing at once would tell a dealer "budget exhausted" for a budget that ends up with room (a burst
    /// of 300 on a budget of 50 had been refused 300 times). Each try gives back all it held before it waits, so no
    /// two redemptions can wait for each other; each takes a new redemption id, so a late release of the try
    /// before can never free a hold of this one.
    /// </summary>
    private async Task<RedeemResult> RedeemOnceAsync(string scope, string key, OrderContext order, string requestHash, Actor actor)
    {
        var giveUpAt = time.GetUtcNow() + WaitForHeldCapacity;
        for (var attempt = 0; ; attempt++)
        {
            var result = await TryRedeemAsync(scope, key, order, requestHash, actor);
            if (result.Status != RedeemStatus.Contended)
            {
                return result;
            }

            if (time.GetUtcNow() >= giveUpAt)
            {
                waits.GaveUp();
                return await ExistingAsync(scope, key, requestHash) ?? result;
            }

            waits.Waited();
            // Full jitter over a doubling window (2, 4, … 128 ms): tries that were refused together come back apart.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 2 << Math.Min(attempt, 6))), time);
        }
    }

    private async Task<RedeemResult> TryRedeemAsync(string scope, string key, OrderContext order, string requestHash, Actor actor)
    {
        var holds = new AttemptHolds("R-" + Guid.CreateVersion7().ToString("N"));
        try
        {
            return await HoldAndAppendAsync(holds, scope, key, order, requestHash, actor);
        }
        catch (Exception ex) when (holds.Any)
        {
            // A grain or the database failed before the ledger was asked, or after it had written nothing under
            // this id: what this attempt holds goes back now instead of blocking its caps until the holds expire.
            logger.LogWarning("Redemption {RedemptionId} failed before its ledger append: {Error}", holds.RedemptionId, ex.Message);
            await ReleaseAsync(holds);
            throw;
        }
    }

    /// <summary>Asks every grain that granted one of the attempt's holds whether it is the superseded activation (see <see cref="IFencedGrain"/>).</summary>
    private async Task CheckFencesAsync(AttemptHolds holds)
    {
        try
        {
            await holds.CheckFencesAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Checking the fences of redemption {RedemptionId} failed", holds.RedemptionId);
        }
    }

    /// <summary>Gives back what an attempt held. A release that fails leaves its hold to expire, which resolves against the ledger.</summary>
    private async Task ReleaseAsync(AttemptHolds holds)
    {
        try
        {
            await holds.ReleaseAllAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Releasing the holds of redemption {RedemptionId} failed; they resolve on expiry", holds.RedemptionId);
        }
    }

    private async Task<RedeemResult> HoldAndAppendAsync(AttemptHolds holds, string scope, string key,
        OrderContext order, string requestHash, Actor actor)
    {
        var redemptionId = holds.RedemptionId;
        var started = Stopwatch.GetTimestamp();
        if (await blacklist.CheckAsync(order.DealerId, order.Customer.Id, order.Code) is { } blocked)
        {
            return await RejectAsync(scope, key, requestHash, blocked, holds);
        }

        // Dealer profiles change rarely and every redemption needs one: the silo keeps them for a few seconds.
        var dealerTask = cache.DealerAsync(grains, order.DealerId);
        var coupon = grains.Ref<ICouponGrain>(GrainKeys.Coupon(order.Code));
        var remembered = UnlimitedCoupon(order);
        var couponHold = remembered ?? await coupon.TryHoldAsync(redemptionId, order.DealerId);
        if (couponHold.Rejection is { } couponRejection)
        {
            return couponHold.Contended
                ? await ContendedAsync(couponRejection, holds)
                : await RejectAsync(scope, key, requestHash, couponRejection, holds);
        }

        // A coupon with unlimited uses (a public code capped by its campaign) has nothing to hold: it is
        // remembered here and its grain is left out of the path, which halves the turns on a hot code.
        var couponHeld = remembered is null;
        if (couponHeld)
        {
            holds.Add(() => coupon.ReleaseAsync(redemptionId));
        }

        if (couponHold.Coupon!.MaxUses is null && remembered is null)
        {
            cache.RememberUnlimited(couponHold.Coupon);
        }

        var campaignId = couponHold.Coupon.CampaignId;
        var campaign = grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId));
        var campaignHold = await campaign.TryHoldAsync(redemptionId, order, await dealerTask, approved: order.ApprovalId is not null);
        if (!campaignHold.Held)
        {
            if (campaignHold.Reasons[0].Code == RejectionCode.ApprovalRequired && campaignHold.Reasons.Length == 1)
            {
                return await AskApprovalAsync(scope, key, requestHash, order, campaignHold, campaignId, actor, holds);
            }

            return campaignHold.Contended
                ? await ContendedAsync(campaignHold.Reasons[0], holds)
                : await RejectAsync(scope, key, requestHash, campaignHold.Reasons[0], holds);
        }

        holds.Add(() => campaign.ReleaseAsync(redemptionId));
        holds.Granted(campaign, campaignHold.Fence);
        if (couponHeld)
        {
            holds.Granted(coupon, couponHold.Fence);
        }

        var caps = campaignHold.Caps;
        if (MissingDimension(caps, order) is { } missing)
        {
            return await RejectAsync(scope, key, requestHash, missing, holds);
        }

        // A dealer's caps (its own, its branch's, its order's) share one shard and a customer's another:
        // one call per shard, in parallel, each holding all of its slots or none.
        var definition = campaignHold.Definition!;
        var memberCaps = MemberCaps.For(campaignId, definition, time.GetUtcNow(),
            new CapSubject(order.DealerId, order.BranchId, order.Customer.Id, order.OrderId, campaignHold.WarrantyKey), campaignHold.Discount);
        var held = new List<(string ShardKey, string Slot)>(memberCaps.Count);
        Rejection? refusal = null;
        Rejection? contended = null;
        if (memberCaps.Count > 0)
        {
            var groups = new List<(ICapShardGrain Shard, string ShardKey, List<MemberCap> Caps, CapHold[] Holds, Task<CapShardHold> Hold)>(2);
            foreach (var group in memberCaps.GroupBy(c => c.Slot.ShardKey))
            {
                var groupCaps = group.ToList();
                var shardKey = group.Key;
                var shard = grains.Ref<ICapShardGrain>(shardKey);
                var holdsOfGroup = groupCaps.Select(c => new CapHold(c.Slot.Key, c.Amount, c.Limit)).ToArray();
                groups.Add((shard, shardKey, groupCaps, holdsOfGroup, shard.TryHoldAsync(redemptionId, holdsOfGroup)));
            }

            Exception? failure = null;
            foreach (var (shard, shardKey, groupCaps, holdsOfGroup, hold) in groups)
            {
                CapShardHold answer;
                try
                {
                    answer = await hold;
                }
                catch (Exception ex)
                {
                    // The other shard's hold may have been granted: it is recorded below before this is thrown.
                    failure ??= ex;
                    continue;
                }

                if (answer.Refused >= 0)
                {
                    if (answer.Contended)
                    {
                        contended ??= groupCaps[answer.Refused].Refusal;
                    }
                    else
                    {
                        refusal ??= groupCaps[answer.Refused].Refusal;
                    }

                    continue;
                }

                var slots = Array.ConvertAll(holdsOfGroup, h => h.Slot);
                holds.Add(() => shard.ReleaseAsync(redemptionId, slots));
                holds.Granted(shard, answer.Fence);
                held.AddRange(slots.Select(slot => (shardKey, slot)));
            }

            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }

        if (refusal is not null)
        {
            return await RejectAsync(scope, key, requestHash, refusal, holds);
        }

        if (contended is not null)
        {
            return await ContendedAsync(contended, holds);
        }

        if (order.ApprovalId is { } approvalId)
        {
            // Every cap is held: only now is the approval used up, so a refusal above leaves it usable.
            var consumed = await grains.Ref<IApprovalGrain>(0)
                .ConsumeAsync(approvalId, order.DealerId, OrderHash.ForApproval(order), campaignHold.Discount);
            if (!consumed.Succeeded)
            {
                return await RejectAsync(scope, key, requestHash, new Rejection(RejectionCode.ApprovalRequired,
                    $"The approval {approvalId} cannot be used for this order: {consumed.Status.ToString().ToLowerInvariant()}."), holds);
            }
        }

        var now = time.GetUtcNow();
        var record = new RedemptionRecord
        {
            Id = redemptionId,
            Code = order.Code,
            CampaignId = campaignId,
            DealerId = order.DealerId,
            BranchId = order.BranchId,
            OrderId = order.OrderId,
            CustomerId = order.Customer.Id,
            Discount = campaignHold.Discount,
            Currency = campaignHold.Currency,
            Status = RedemptionStatuses.Committed,
            // PostgreSQL keeps microseconds: truncate so that a replay renders the same instant.
            RedeemedAt = new DateTimeOffset(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero),
            Lines = DiscountedLines(order, campaignHold.LineDiscounts),
            EligibleValue = campaignHold.EligibleValue,
            WarrantyKey = campaignHold.WarrantyKey,
            Exclusive = definition.Stacking == StackingModes.Exclusive,
        };

        timings.HoldsTaken(started);
        AppendStatus appended;
        try
        {
            appended = await ledger.AppendAsync(new LedgerEntry(record, scope, key, requestHash, actor, new HeldCaps(couponHeld, held, holds.Fences)));
        }
        catch (LedgerNotWrittenException ex)
        {
            logger.LogWarning("Redemption {RedemptionId} was not written: {Error}", redemptionId, ex.InnerException?.Message);
            await ReleaseAsync(holds);
            return new RedeemResult { Status = RedeemStatus.Unavailable };
        }
        catch (Exception ex)
        {
            // Unknown outcome: keep the holds; they resolve against the ledger when they expire.
            logger.LogWarning(ex, "Ledger append for redemption {RedemptionId} failed; holds resolve on expiry", redemptionId);
            return new RedeemResult { Status = RedeemStatus.Unavailable };
        }

        switch (appended)
        {
            case AppendStatus.Committed:
                // The ledger has confirmed every hold of this redemption, batched with its neighbours.
                logger.LogDebug("Redemption {RedemptionId} committed for {Discount} on {CampaignId}", redemptionId, record.Discount, campaignId);
                return new RedeemResult { Status = RedeemStatus.Created, Redemption = record };
            case AppendStatus.KeyTaken:
                await ReleaseAsync(holds);
                return await ExistingAsync(scope, key, requestHash)
                       ?? new RedeemResult { Status = RedeemStatus.Unavailable };
            default:
                if (appended == AppendStatus.Fenced)
                {
                    // A grain that granted a hold was activated afresh (its silo died or stopped) before the
                    // commit: its new activation never saw the hold, so this attempt must not count. Retryable.
                    // The grain that granted it may itself be the superseded activation, still serving calls: told
                    // so, it deactivates, and the retry meets a fresh one instead of being fenced again.
                    logger.LogWarning("Redemption {RedemptionId} was fenced out by a new activation of a cap grain", redemptionId);
                    await CheckFencesAsync(holds);
                }

                await ReleaseAsync(holds);
                return new RedeemResult { Status = RedeemStatus.Unavailable };
        }
    }

    /// <summary>
    /// The discount needs an approver (a goodwill coupon, a margin breach routed to approval): an approval
    /// request bound to this exact order and amount is opened, and the refusal names it. The dealer
    /// redeems again with its id once it is approved.
    /// </summary>
    private async Task<RedeemResult> AskApprovalAsync(string scope, string key, string requestHash, OrderContext order,
        CampaignHold hold, string campaignId, Actor actor, AttemptHolds holds)
    {
        var existing = await RejectAsync(scope, key, requestHash, hold.Reasons[0], holds);
        if (existing.Status != RedeemStatus.Rejected)
        {
            return existing;
        }

        var approval = await grains.Ref<IApprovalGrain>(0).CreateAsync(new ApprovalRequest
        {
            DealerId = order.DealerId,
            OrderHash = OrderHash.ForApproval(order),
            Amount = hold.Discount,
            Currency = hold.Currency,
            CampaignId = campaignId,
            Code = order.Code,
            Reason = hold.Definition?.Kind == CampaignKinds.Goodwill ? ApprovalReasons.Goodwill
                : hold.Definition?.ApprovalAbove is { } threshold && hold.Discount > threshold ? ApprovalReasons.HighValue
                : ApprovalReasons.Margin,
        }, actor);
        return existing with { ApprovalId = approval.Id };
    }

    private async Task<RedeemResult> RejectAsync(string scope, string key, string requestHash, Rejection rejection, AttemptHolds holds)
    {
        await ReleaseAsync(holds);

        // A refusal may only be our own earlier success seen from the caps (a single-use code used by
        // this very key before a crash): the ledger decides.
        return await ExistingAsync(scope, key, requestHash)
               ?? new RedeemResult { Status = RedeemStatus.Rejected, Rejection = rejection };
    }

    /// <summary>Refused only by holds in flight: gives back what this try holds, and the caller may try again.</summary>
    private async Task<RedeemResult> ContendedAsync(Rejection rejection, AttemptHolds holds)
    {
        await ReleaseAsync(holds);
        return new RedeemResult { Status = RedeemStatus.Contended, Rejection = rejection };
    }

    private async Task<RedeemResult?> ExistingAsync(string scope, string key, string requestHash)
    {
        var existing = await ledger.FindByKeyAsync(scope, key);
        if (existing is null)
        {
            return null;
        }

        return string.Equals(existing.RequestHash, requestHash, StringComparison.Ordinal)
            ? new RedeemResult { Status = RedeemStatus.Replayed, Redemption = existing.Record }
            : new RedeemResult { Status = RedeemStatus.KeyReused };
    }

    /// <summary>The order's lines that carry a share of the discount, with their share.</summary>
    private static RedemptionLine[] DiscountedLines(OrderContext order, long[] lineDiscounts)
    {
        var count = 0;
        foreach (var share in lineDiscounts)
        {
            count += share > 0 ? 1 : 0;
        }

        var lines = new RedemptionLine[count];
        for (int i = 0, j = 0; i < lineDiscounts.Length && i < order.Lines.Length; i++)
        {
            if (lineDiscounts[i] > 0)
            {
                var line = order.Lines[i];
                lines[j++] = new RedemptionLine
                {
                    Line = i, Sku = line.Sku, Category = line.Category, Quantity = line.Quantity, UnitPrice = line.UnitPrice,
                    UnitCost = line.UnitCost, Discount = lineDiscounts[i],
                };
            }
        }

        return lines;
    }

    /// <summary>A per-branch or per-customer cap cannot be enforced on an order that doesn't name one.</summary>
    private static Rejection? MissingDimension(CapsDefinition caps, OrderContext order) =>
        caps.PerBranchRedemptions is not null && order.BranchId is null
            ? new Rejection(RejectionCode.NotEligible, "The campaign limits redemptions per branch: the order must name its branch.")
            : caps.PerCustomerRedemptions is not null && order.Customer.Id is null
                ? new Rejection(RejectionCode.NotEligible, "The campaign limits redemptions per customer: the order must name its customer.")
                : null;

    /// <summary>
    /// One try's redemption id, the releases of what it holds in the order they were taken, and the grains that granted
    /// them with their epochs: the fences the ledger checks at commit, and whom to ask when it fences the try out.
    /// </summary>
    private sealed class AttemptHolds(string redemptionId)
    {
        private readonly List<Func<Task>> _releases = new(5);
        private readonly List<IFencedGrain> _grantors = new(4);
        private readonly List<HoldFence> _fences = new(4);

        public string RedemptionId { get; } = redemptionId;

        public bool Any => _releases.Count > 0;

        public void Add(Func<Task> release) => _releases.Add(release);

        public Task ReleaseAllAsync() => Task.WhenAll(_releases.Select(release => release()));

        public IReadOnlyList<HoldFence> Fences => _fences;

        public void Granted(IFencedGrain grain, long epoch)
        {
            _grantors.Add(grain);
            _fences.Add(new HoldFence(grain.GetGrainId().ToString(), epoch));
        }

        public Task CheckFencesAsync() => Task.WhenAll(_grantors.Select((grain, i) => grain.CheckFenceAsync(_fences[i].Epoch)));
    }
}
