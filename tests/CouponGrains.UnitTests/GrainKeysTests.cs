using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using Xunit;

namespace CouponGrains.UnitTests;

public sealed class GrainKeysTests
{
    [Fact]
    public void TheCoordinatorOfAKeyIsStableAcrossProcesses()
    {
        // Fixed expectations: a change of hash function would split one key across two coordinators
        // during a rolling deploy, so it must be deliberate.
        Assert.Equal(202, GrainKeys.RedeemShard("D-104", "SO-1"));
        Assert.Equal("C-1/2/11", GrainKeys.CapShard("C-1", CapKind.CustomerCount, "C-42"));
        Assert.NotEqual(GrainKeys.RedeemShard("D-104", "SO-1"), GrainKeys.RedeemShard("D-10", "4SO-1"));
    }

    [Fact]
    public void CoordinatorsAndCapShardsSpreadEvenly()
    {
        var coordinators = new int[GrainKeys.RedeemShards];
        var shards = new Dictionary<string, int>();
        for (var i = 0; i < 100_000; i++)
        {
            coordinators[GrainKeys.RedeemShard($"D-{i % 500}", $"key-{i}")]++;
            var shard = GrainKeys.CapShard("C-1", CapKind.CustomerCount, $"C-{i}");
            shards[shard] = shards.GetValueOrDefault(shard) + 1;
        }

        Assert.All(coordinators, n => Assert.InRange(n, 250, 550));
        Assert.Equal(GrainKeys.CapShards, shards.Count);
        Assert.All(shards.Values, n => Assert.InRange(n, 2_500, 3_750));
    }
}
