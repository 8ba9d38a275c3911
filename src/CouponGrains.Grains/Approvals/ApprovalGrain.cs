using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Approvals;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Approvals;

/// <summary>Order-time approvals for callers outside the silo. Stateless: <see cref="ApprovalStore"/> holds the truth.</summary>
[GrainType("approvals"), StatelessWorker]
public sealed class ApprovalGrain(ApprovalStore store) : Grain, IApprovalGrain
{
    public Task<ApprovalView> CreateAsync(ApprovalRequest request, Actor actor) => store.CreateAsync(request, actor);

    public Task<ApprovalView?> GetAsync(string approvalId) => store.GetAsync(approvalId);

    public Task<ApprovalView[]> ListAsync(string? status, string? dealerId, int limit, string? afterId) =>
        store.ListAsync(status, dealerId, limit, afterId);

    public Task<ApprovalDecisionResult> DecideAsync(string approvalId, ApprovalDecision decision, string? reasonCode, string? note, Actor actor) =>
        store.DecideAsync(approvalId, decision, reasonCode, note, actor);

    public Task<ApprovalConsumeResult> ConsumeAsync(string approvalId, string dealerId, string orderHash, long amount) =>
        store.ConsumeAsync(approvalId, dealerId, orderHash, amount);
}
