using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Settlement;

namespace CouponGrains.Grains.Settlement;

/// <summary>Settlement for the API and the schedule. One activation; runs are also serialised in PostgreSQL
/// (an advisory lock), so they never overlap even across a failover.</summary>
[GrainType("settlement")]
public sealed class SettlementGrain(SettlementStore store) : Grain, ISettlementGrain
{
    public Task<CreditNote[]> GenerateCreditNotesAsync(string? dealerId, DateOnly periodFrom, DateOnly periodTo, Actor actor) =>
        store.GenerateAsync(dealerId, periodFrom, periodTo, actor);

    public Task<CreditNote[]> ListCreditNotesAsync(string? dealerId, int limit) => store.ListNotesAsync(dealerId, limit);

    public async Task<CreditNote?> GetCreditNoteAsync(string id) => (await store.ListNotesAsync(null, 1, id)).FirstOrDefault();

    public Task<string> ReconciliationCsvAsync(string? dealerId, DateOnly from, DateOnly to) => store.ReconciliationCsvAsync(dealerId, from, to);

    public Task SetDeliveryProofRequiredAsync(string campaignId, bool required, Actor actor) =>
        store.SetDeliveryProofRequiredAsync(campaignId, required, actor);

    public Task<Claim> SubmitClaimAsync(ClaimSubmission submission, Actor actor) => store.SubmitClaimAsync(submission, actor);

    public async Task<Claim?> GetClaimAsync(string id) => (await store.ListClaimsAsync(null, null, 1, id)).FirstOrDefault();

    public Task<Claim[]> ListClaimsAsync(string? dealerId, string? status, int limit) => store.ListClaimsAsync(dealerId, status, limit);

    public Task<ClaimDecisionResult> DecideClaimAsync(string id, ClaimDecision decision, Actor actor) =>
        store.DecideClaimAsync(id, decision, actor);
}
