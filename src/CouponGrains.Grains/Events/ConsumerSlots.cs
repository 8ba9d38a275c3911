using Microsoft.Extensions.Options;

namespace CouponGrains.Grains.Events;

/// <summary>
/// How many pipeline consumer transactions this silo runs at once (<see cref="PipelineOptions.ConsumerTransactions"/>).
/// Each relay cycle hands every consumer of every partition a batch: a partition's three consumers at the same
/// moment, and when the relay is behind every partition at once. Run all together, a dozen transactions took both
/// cores of a small box from the redemptions for tens of milliseconds, every cycle. Queued behind a few slots, they
/// apply the same events in the same transactions, one after another.
/// </summary>
public sealed class ConsumerSlots(IOptions<PipelineOptions> options)
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.ConsumerTransactions));

    public async Task<T> RunAsync<T>(Func<Task<T>> transaction)
    {
        await _slots.WaitAsync();
        try
        {
            return await transaction();
        }
        finally
        {
            _slots.Release();
        }
    }
}
