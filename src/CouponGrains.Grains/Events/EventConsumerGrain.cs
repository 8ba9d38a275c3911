using CouponGrains.Contracts.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace CouponGrains.Grains.Events;

/// <summary>A pipeline consumer: one activation per consumer kind and partition stream, activated by the
/// stream itself (implicit subscription). Its key is the partition number.</summary>
public interface IEventConsumerGrain : IGrainWithStringKey
{
    /// <summary>Applies a batch at once, in one transaction (tests and tools); returns how many events were new.</summary>
    Task<int> ApplyAsync(RedemptionEventBatch batch);
}

/// <summary>
/// Subscribes to its partition's stream on activation. Delivered batches are buffered and applied by one
/// flush loop, as many per transaction as have arrived meanwhile (up to about <see cref="MaxPerTransaction"/>
/// events), so a consumer that falls behind catches up with bigger transactions instead of queueing small ones.
/// Buffering loses nothing: an event leaves the outbox only once every consumer's offset has passed it, and the
/// relay sends again from an offset that stopped short (a deactivation with a full buffer, a batch dropped on
/// the way); the offset makes that harmless. All buffer access happens on the activation's scheduler, so it
/// needs no lock.
/// </summary>
public abstract class EventConsumerGrain : Grain, IEventConsumerGrain
{
    private const int MaxPerTransaction = 4000;
    private const int MaxBuffered = 50_000;
    private readonly List<RedemptionEventBatch> _buffer = [];
    private int _buffered;
    private Task _flushing = Task.CompletedTask;
    private IDeliveryFaults? _faults;

    protected int Partition => int.Parse(this.GetPrimaryKeyString(), System.Globalization.CultureInfo.InvariantCulture);

    private ILogger Logger => ServiceProvider.GetRequiredService<ILogger<EventConsumerGrain>>();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _faults = ServiceProvider.GetService<IDeliveryFaults>();
        var stream = this.GetStreamProvider(PipelineNames.StreamProvider)
            .GetStream<RedemptionEventBatch>(StreamId.Create(PipelineNames.Namespace, this.GetPrimaryKeyString()));
        await stream.SubscribeAsync((batch, _) => EnqueueAsync(batch));
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<int> ApplyAsync(RedemptionEventBatch batch) => (await ApplyAsync([batch])).Fresh;

    /// <summary>Applies batches of this partition in one transaction, exactly once per event (see <see cref="ConsumerTransaction"/>).</summary>
    protected abstract Task<ConsumerTransaction.Applied> ApplyAsync(IReadOnlyList<RedemptionEventBatch> batches);

    private async Task EnqueueAsync(RedemptionEventBatch batch)
    {
        if (_faults?.Lose(GetType().Name, Partition, batch) == true)
        {
            return;
        }

        while (_buffered >= MaxBuffered)
        {
            await _flushing; // back-pressure: the stream waits while the buffer is full
        }

        _buffer.Add(batch);
        _buffered += batch.Events.Length;
        if (_flushing.IsCompleted)
        {
            _flushing = FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        while (_buffer.Count > 0)
        {
            var take = 1;
            for (var events = _buffer[0].Events.Length; take < _buffer.Count && events + _buffer[take].Events.Length <= MaxPerTransaction; take++)
            {
                events += _buffer[take].Events.Length;
            }

            var batches = _buffer.GetRange(0, take);
            try
            {
                var applied = await ApplyAsync(batches);
                if (applied.Batches < take)
                {
                    // A batch before these was lost: the relay sends it again with everything after it.
                    Logger.LogInformation(
                        "Pipeline consumer {Grain} stands at {Offset} and dropped {Count} batches that start later",
                        GetType().Name, applied.Offset, take - applied.Batches);
                }
            }
            catch (Exception e)
            {
                // Keep them and try again shortly; if this activation dies first, the relay sends them again.
                Logger.LogWarning(e, "Pipeline consumer {Grain} failed to apply {Count} batches; retrying", GetType().Name, take);
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }

            _buffer.RemoveRange(0, take);
            _buffered -= batches.Sum(b => b.Events.Length);
        }
    }
}

/// <summary>
/// Fault injection for a silo's tests: whether a delivered batch is lost on its way in, as a message lost between
/// silos would be. Not registered in a running product, where nothing is lost on purpose.
/// </summary>
public interface IDeliveryFaults
{
    /// <summary>Given the consumer kind (the grain's type name), the partition and the batch.</summary>
    bool Lose(string consumerKind, int partition, RedemptionEventBatch batch);
}
