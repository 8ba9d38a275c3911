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

    /// <summary>How many redemption coordinators there are; changing it is safe (the ledger is the arbiter).</summary>
    public const int RedeemShards = 256;

    /// <summary>
    /// The coordinator for an idempotency key, scoped to the dealer the order is for. A stable hash
    /// (FNV-1a), never string.GetHashCode, so every API host and silo agrees.
    /// </summary>
    public static long RedeemShard(string dealerId, string idempotencyKey)
    {
        var hash = 2166136261u;
        foreach (var c in dealerId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash = (hash ^ Separator) * 16777619u;
        foreach (var c in idempotencyKey)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash % RedeemShards;
    }

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
