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
        Assert.Equal("caps/1/43", GrainKeys.CapShard(CapGroup.Customer, "C-42"));
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
            var shard = GrainKeys.CapShard(CapGroup.Customer, $"C-{i}");
            shards[shard] = shards.GetValueOrDefault(shard) + 1;
        }

        Assert.All(coordinators, n => Assert.InRange(n, 250, 550));
        Assert.Equal(GrainKeys.CapShards, shards.Count);
        Assert.All(shards.Values, n => Assert.InRange(n, 1_250, 1_900));
    }

    [Fact]
    public void ACapSlotKeyRoundTripsWithItsPeriod()
    {
        var from = DateTimeOffset.Parse("2026-11-24T18:30:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var slot = new CapSlot(CapKind.BranchAmount, "C-1", "D-1", "B-2", from, from.AddDays(1));

        var parsed = CapSlot.Parse(slot.Key);

        Assert.Equal(slot, parsed);
        Assert.Equal(CapGroup.Dealer, parsed.Group);
        Assert.True(parsed.CountsAmount);
        Assert.Equal(slot.ShardKey, new CapSlot(CapKind.OrderCodes, CapSlot.OrdersScope, "D-1", "SO-9").ShardKey);
        Assert.Equal(new CapSlot(CapKind.CustomerCount, "C-1", "K-9"), CapSlot.Parse(new CapSlot(CapKind.CustomerCount, "C-1", "K-9").Key));
        Assert.Throws<FormatException>(() => CapSlot.Parse("9/C-1/D-1//"));
    }
}
