using System.Reflection;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Coupons;
using Microsoft.Extensions.DependencyInjection;

namespace CouponGrains.IntegrationTests.Infrastructure;

[Collection(ApiCollection.Name)]
public sealed class GrainRefsTests(ApiFixture api)
{
    private IGrainFactory Grains => api.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public void AKeyMetAgainGetsTheReferenceItGotBeforeAndItIsTheOneGetGrainGives()
    {
        var first = Grains.Ref<ICampaignGrain>("C-REF-1");
        Assert.Same(first, Grains.Ref<ICampaignGrain>("C-REF-1"));
        Assert.NotSame(first, Grains.Ref<ICampaignGrain>("C-REF-2"));
        Assert.Equal(Grains.GetGrain<ICampaignGrain>("C-REF-1").GetGrainId(), first.GetGrainId());
        Assert.Equal(Grains.GetGrain<ICampaignGrain>("C-REF-2").GetGrainId(), Grains.Ref<ICampaignGrain>("C-REF-2").GetGrainId());
    }

    [Fact]
    public void AnotherFactoryBuildsItsOwnReferences()
    {
        var code = "REF-" + Guid.NewGuid().ToString("N")[..8];
        var mine = Grains.Ref<ICouponGrain>(code);
        var other = CountingFactory.Over(Grains);
        var theirs = other.Ref<ICouponGrain>(code);
        Assert.Equal(1, ((CountingFactory)(object)other).Built);
        Assert.NotSame(mine, theirs);
        Assert.Same(theirs, other.Ref<ICouponGrain>(code));
        Assert.Equal(1, ((CountingFactory)(object)other).Built);
    }

    /// <summary>A grain factory that is another object (as another silo's or client's would be) and counts the references it builds.</summary>
    public class CountingFactory : DispatchProxy
    {
        private IGrainFactory _inner = null!;

        public int Built { get; private set; }

        public static IGrainFactory Over(IGrainFactory inner)
        {
            var proxy = Create<IGrainFactory, CountingFactory>();
            ((CountingFactory)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IGrainFactory.GetGrain))
            {
                Built++;
            }

            return method.Invoke(_inner, args);
        }
    }
}
