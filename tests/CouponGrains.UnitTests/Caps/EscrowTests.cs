using CouponGrains.Domain.Caps;
using Xunit;

namespace CouponGrains.UnitTests.Caps;

public sealed class EscrowTests
{
    private static readonly DateTime Now = new(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Later = Now.AddSeconds(30);

    [Fact]
    public void HoldsAreGrantedExactlyUpToTheLimit()
    {
        var escrow = new Escrow();
        escrow.Load(used: 600, count: 6, [], Now);

        Assert.True(escrow.TryHold("r1", 300, limit: 1000, Later));
        Assert.True(escrow.TryHold("r2", 100, limit: 1000, Later));
        Assert.False(escrow.TryHold("r3", 1, limit: 1000, Later));
        Assert.Equal(400, escrow.Held);
        Assert.Equal(600, escrow.Used);
    }

    [Fact]
    public void ARefusalIsContendedWhileHoldsFillTheCapAndFinalOnceTheCommittedTotalDoes()
    {
        var escrow = new Escrow();
        escrow.Load(used: 600, count: 6, [], Now);
        Assert.True(escrow.TryHold("r1", 300, limit: 1000, Later));

        Assert.Equal(CapFit.Fits, escrow.Fit(100, limit: 1000));
        Assert.Equal(CapFit.Held, escrow.Fit(101, limit: 1000));
        Assert.Equal(CapFit.Held, escrow.Fit(400, limit: 1000));
        Assert.Equal(CapFit.Exceeded, escrow.Fit(401, limit: 1000));
        Assert.Equal(CapFit.Fits, escrow.Fit(long.MaxValue / 2, limit: null));

        // Released, the held room is free again; confirmed, it is gone for good.
        escrow.Release("r1");
        Assert.Equal(CapFit.Fits, escrow.Fit(400, limit: 1000));
        Assert.True(escrow.TryHold("r2", 300, limit: 1000, Later));
        escrow.Confirm("r2");
        Assert.Equal(CapFit.Exceeded, escrow.Fit(101, limit: 1000));
        Assert.Equal(CapFit.Fits, escrow.Fit(100, limit: 1000));
    }

    [Fact]
    public void AnyInterleavingOfHoldsConfirmsAndReleasesStaysWithinTheLimit()
    {
        var random = new Random(42);
        var escrow = new Escrow();
        const long limit = 10_000;
        var open = new List<string>();
        for (var i = 0; i < 20_000; i++)
        {
            switch (random.Next(3))
            {
                case 0:
                    var id = $"r{i}";
                    if (escrow.TryHold(id, random.Next(1, 500), limit, Later))
                    {
                        open.Add(id);
                    }

                    break;
                case 1 when open.Count > 0:
                    escrow.Confirm(open[^1]);
                    open.RemoveAt(open.Count - 1);
                    break;
                case 2 when open.Count > 0:
                    escrow.Release(open[0]);
                    open.RemoveAt(0);
                    break;
            }

            Assert.InRange(escrow.Used + escrow.Held, 0, limit);
        }
    }

    [Fact]
    public void PendingHoldsMatchAPlainModelWhateverTheOrderTheyEndIn()
    {
        // The first pending hold is kept inline and the others in a dictionary: holds that end in any order,
        // repeated holds and unknown ids must leave exactly what a plain dictionary would.
        var random = new Random(7);
        var escrow = new Escrow();
        var model = new Dictionary<string, (long Amount, DateTime Deadline)>();
        long used = 0, count = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var id = $"r{random.Next(40)}";
            switch (random.Next(4))
            {
                case 0 or 1:
                    var amount = random.Next(1, 50);
                    var deadline = Later.AddSeconds(random.Next(-5, 5));
                    var granted = escrow.TryHold(id, amount, null, deadline);
                    Assert.True(granted);
                    model.TryAdd(id, (amount, deadline));
                    break;
                case 2:
                    Assert.Equal(model.Remove(id, out var confirmed), escrow.Confirm(id));
                    used += confirmed.Amount;
                    count += confirmed.Amount > 0 ? 1 : 0;
                    break;
                default:
                    Assert.Equal(model.Remove(id), escrow.Release(id));
                    break;
            }

            Assert.Equal(model.Count, escrow.PendingHolds);
            Assert.Equal(model.Values.Sum(h => h.Amount), escrow.Held);
            Assert.Equal(used, escrow.Used);
            Assert.Equal(count, escrow.Count);
        }

        var expired = model.Where(h => h.Value.Deadline <= Later).Select(h => h.Key).Order().ToArray();
        Assert.Equal(expired, escrow.ExpiredHolds(Later).Order().ToArray());
    }

    [Fact]
    public void RepeatingAHoldConfirmOrReleaseChangesNothing()
    {
        var escrow = new Escrow();
        Assert.True(escrow.TryHold("r1", 100, 1000, Later));
        Assert.True(escrow.TryHold("r1", 100, 1000, Later));
        Assert.Equal(100, escrow.Held);

        Assert.True(escrow.Confirm("r1"));
        Assert.False(escrow.Confirm("r1"));
        Assert.False(escrow.Release("r1"));
        Assert.Equal(100, escrow.Used);
        Assert.Equal(0, escrow.Held);
        Assert.Equal(1, escrow.Count);
    }

    [Fact]
    public void ARestoreGivesBackOnceAndARestoreKnownAtLoadIsIgnored()
    {
        var escrow = new Escrow();
        escrow.Load(used: 500, count: 5, recentlyRestored: ["already-reversed"], Now);

        Assert.False(escrow.Restore("already", "already-reversed", 100, Now));
        Assert.True(escrow.Restore("r9", "r9#1", 100, Now));
        Assert.False(escrow.Restore("r9", "r9#1", 100, Now));
        Assert.Equal(400, escrow.Used);
        Assert.Equal(4, escrow.Count);
    }

    [Fact]
    public void PartialReturnsGiveBackMoneyEachTimeAndTheCountOnlyAtTheEnd()
    {
        var escrow = new Escrow();
        escrow.Load(used: 1_000, count: 2, recentlyRestored: [], Now);

        Assert.True(escrow.Restore("r1", "r1#1", 100, Now, countOne: false));
        Assert.True(escrow.Restore("r1", "r1#2", 150, Now, countOne: false));
        Assert.False(escrow.Restore("r1", "r1#2", 150, Now, countOne: false));
        Assert.Equal(750, escrow.Used);
        Assert.Equal(2, escrow.Count);

        Assert.True(escrow.Restore("r1", "r1#3", 250, Now));
        Assert.Equal(500, escrow.Used);
        Assert.Equal(1, escrow.Count);
    }

    [Fact]
    public void ARestoreOfAStillPendingHoldNetsToZero()
    {
        var escrow = new Escrow();
        escrow.TryHold("r1", 250, 1000, Later);

        // Committed and reversed before its confirm arrived: the hold is confirmed, then given back.
        escrow.Restore("r1", "r1#1", 250, Now);
        escrow.Confirm("r1");

        Assert.Equal(0, escrow.Used);
        Assert.Equal(0, escrow.Held);
    }

    [Fact]
    public void OnlyHoldsPastTheirDeadlineAreExpired()
    {
        var escrow = new Escrow();
        escrow.TryHold("early", 1, null, Now.AddSeconds(5));
        escrow.TryHold("late", 1, null, Now.AddSeconds(60));

        Assert.Equal(["early"], escrow.ExpiredHolds(Now.AddSeconds(10)));
        Assert.Empty(escrow.ExpiredHolds(Now));
    }
}
