using CouponGrains.Contracts.Access;

namespace CouponGrains.Contracts.Dealers;

/// <summary>A dealer's profile, as imported from the CRM. Key: <see cref="GrainKeys.Dealer"/>.</summary>
[Alias("dealer")]
public interface IDealerGrain : IGrainWithStringKey
{
    [Alias("upsert")]
    Task<DealerProfile> UpsertAsync(DealerProfile profile, Actor actor);

    [Alias("get")]
    Task<DealerProfile?> GetAsync();
}
