using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Contracts.Access;

namespace CouponGrains.IntegrationTests.Security;

public sealed class ApiKeyIdentityTests
{
    private static readonly Actor s_dealer = new("K-1", "dealer", "D-1");

    [Fact]
    public void AnAuthenticatedKeyIsItsActorAndStaysSoWhenThePrincipalIsCloned()
    {
        var user = new ClaimsPrincipal(new ApiKeyIdentity(s_dealer, "Dealer one"));
        Assert.Same(s_dealer, user.ToActor());
        Assert.Equal("D-1", user.DealerId());
        Assert.Equal("Dealer one", user.Identity!.Name);
        Assert.True(user.IsInRole("dealer"));

        var clone = user.Clone();
        Assert.IsType<ApiKeyIdentity>(clone.Identity);
        Assert.Equal(s_dealer, clone.ToActor());
    }

    [Fact]
    public void APrincipalWithTheSameClaimsButAnotherIdentityReadsTheSame()
    {
        var plain = new ClaimsPrincipal(new ClaimsIdentity(new ApiKeyIdentity(s_dealer, "Dealer one").Claims, "other"));
        Assert.Equal(s_dealer, plain.ToActor());
        Assert.True(plain.MayAccessDealer("D-1"));
        Assert.False(plain.MayAccessDealer("D-2"));

        var staff = new ClaimsPrincipal(new ApiKeyIdentity(new Actor("K-2", "finance", null), "Finance"));
        Assert.Null(staff.DealerId());
        Assert.False(staff.IsDealerKey());
        Assert.True(staff.MayAccessDealer("D-2"));
    }
}
