namespace CouponGrains.Contracts;

/// <summary>The one place grain keys are built. Parts are joined with '/', which ids may not contain.</summary>
public static class GrainKeys
{
    public const char Separator = '/';

    public static string Campaign(string campaignId) => campaignId;

    public static string Coupon(string code) => code;

    public static string Dealer(string dealerId) => dealerId;

    public static string DealerBudget(string campaignId, string dealerId) => $"{campaignId}/{dealerId}";

    public static string BranchQuota(string campaignId, string dealerId, string branchId) =>
        $"{campaignId}/{dealerId}/{branchId}";

    public static string CustomerLimit(string campaignId, string customerId) => $"{campaignId}/{customerId}";

    /// <summary>Idempotency keys are scoped to the dealer the order is for.</summary>
    public static string Idempotency(string dealerId, string idempotencyKey) => $"{dealerId}/{idempotencyKey}";

    public const string ApiKeys = "api-keys";

    public static string[] Split(string key) => key.Split(Separator);
}

/// <summary>Names of storage providers and states, never repeated as literals.</summary>
public static class StorageNames
{
    public const string Grains = "postgres";
    public const string CampaignState = "campaign";
    public const string DealerState = "dealer";
}
