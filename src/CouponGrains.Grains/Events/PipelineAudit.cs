using CouponGrains.Contracts.Audit;
using CouponGrains.Grains.Audit;
using Npgsql;

namespace CouponGrains.Grains.Events;

/// <summary>Entity types and actions the pipeline writes to the audit trail.</summary>
public static class PipelineAuditNames
{
    public const string FraudFlag = "fraud_flag";
    public const string Blacklist = "blacklist";
    public const string Claim = "claim";
    public const string CreditNote = "credit_note";
    public const string SettlementRule = "settlement_rule";

    public const string Dismissed = "dismissed";
    public const string Confirmed = "confirmed";
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Submitted = "submitted";
    public const string Generated = "generated";
}

public static class PipelineAudit
{
    /// <summary>Appends an audit row inside the caller's transaction, so the change and its audit commit together.</summary>
    public static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, AuditLog log, AuditEntry entry)
    {
        await using var batch = new NpgsqlBatch(connection, tx);
        AuditSql.AddTo(batch, entry);
        await batch.ExecuteNonQueryAsync();
        log.RequestSeal();
    }
}
