using CouponGrains.Contracts.Audit;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Audit;

/// <summary>The audit trail for the API tier, which cannot reach <see cref="AuditLog"/> directly. Stateless.</summary>
[GrainType("audit"), StatelessWorker]
public sealed class AuditGrain(AuditLog audit) : Grain, IAuditGrain
{
    public Task AppendAsync(AuditEntry entry) => audit.AppendAsync(entry, CancellationToken.None);

    public Task<AuditPage> QueryAsync(AuditQuery query) => audit.QueryAsync(query, CancellationToken.None);

    public async Task<AuditVerification> VerifyAsync()
    {
        await audit.SealPendingAsync(CancellationToken.None);
        return await audit.VerifyAsync(CancellationToken.None);
    }
}
