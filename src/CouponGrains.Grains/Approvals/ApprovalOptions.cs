namespace CouponGrains.Grains.Approvals;

/// <summary>Settings under <c>Approvals</c>: campaign approval chain and order-time exception approvals.</summary>
public sealed class ApprovalOptions
{
    public const string Section = "Approvals";

    /// <summary>A campaign whose budget is above this (minor units) needs a second approver, one of the two an admin. Null: never.</summary>
    public long? SecondApproverAbove { get; set; }

    /// <summary>When true (the default) nobody approves a campaign they created or submitted, nor approves it twice.</summary>
    public bool SeparationOfDuties { get; set; } = true;

    /// <summary>The largest exception discount (minor units) an <c>approver</c> key may approve.</summary>
    public long ApproverMaxAmount { get; set; } = 100_000;

    /// <summary>The largest exception discount (minor units) a <c>finance</c> key may approve; admins have no limit.</summary>
    public long FinanceMaxAmount { get; set; } = 10_000_000;

    /// <summary>How long an exception request stays decidable and usable.</summary>
    public int RequestExpiryMinutes { get; set; } = 24 * 60;
}
