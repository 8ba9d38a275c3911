namespace CouponGrains.Contracts;

/// <summary>The one place grain keys are built. Parts are joined with '/', which ids may not contain.</summary>
public static class GrainKeys
{
    public const char Separator = '/';

    public static string Campaign(string campaignId) => campaignId;

    public static string Coupon(string code) => code;

    public static string Dealer(string dealerId) => dealerId;

    /// <summary>The members of one group of caps are spread over this many shards, whatever their campaign.</summary>
    public const int CapShards = 64;

    /// <summary>
    /// The shard holding a member's caps: <c>caps/{group}/{shard}</c>, where the member is the dealer for
    /// dealer, branch and order caps (so one call holds all of a dealer's) or the customer. Shards are
    /// shared by every campaign: a thousand campaigns cost no more activations than one.
    /// </summary>
    public static string CapShard(Caps.CapGroup group, string member) =>
        $"caps/{(int)group}/{Fnv(member, 2166136261u) % CapShards}";

    /// <summary>How many redemption coordinators there are; changing it is safe (the ledger is the arbiter).</summary>
    public const int RedeemShards = 256;

    /// <summary>
    /// The coordinator for an idempotency key, scoped to the dealer the order is for. A stable hash
    /// (FNV-1a), never string.GetHashCode, so every API host and silo agrees.
    /// </summary>
    public static long RedeemShard(string dealerId, string idempotencyKey)
    {
        var hash = Fnv(dealerId, 2166136261u);
        hash = Fnv(idempotencyKey, (hash ^ Separator) * 16777619u);
        return hash % RedeemShards;
    }

    private static uint Fnv(string text, uint hash)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
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
