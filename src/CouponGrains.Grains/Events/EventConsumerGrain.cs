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
/// flush loop, as many events per transaction as have arrived meanwhile (up to <see cref="MaxPerTransaction"/>),
/// so a consumer that falls behind catches up with bigger transactions instead of queueing small ones.
/// Buffering loses nothing: an event leaves the outbox only once applied, and the relay publishes again
/// what a consumer dropped (a deactivation with a full buffer included); dedup by event id makes that harmless.
/// All buffer access happens on the activation's scheduler, so it needs no lock.
/// </summary>
public abstract class EventConsumerGrain : Grain, IEventConsumerGrain
{
    private const int MaxPerTransaction = 4000;
    private const int MaxBuffered = 50_000;
    private readonly List<RedemptionEvent> _buffer = [];
    private Task _flushing = Task.CompletedTask;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stream = this.GetStreamProvider(PipelineNames.StreamProvider)
            .GetStream<RedemptionEventBatch>(StreamId.Create(PipelineNames.Namespace, this.GetPrimaryKeyString()));
        await stream.SubscribeAsync((batch, _) => EnqueueAsync(batch));
        await base.OnActivateAsync(cancellationToken);
    }

    public Task<int> ApplyAsync(RedemptionEventBatch batch) => ApplyAsync(batch.Events);

    /// <summary>Applies events in one transaction, exactly once per event id; returns how many were new.</summary>
    protected abstract Task<int> ApplyAsync(RedemptionEvent[] events);

    private async Task EnqueueAsync(RedemptionEventBatch batch)
    {
        while (_buffer.Count >= MaxBuffered)
        {
            await _flushing; // back-pressure: the stream waits while the buffer is full
        }

        _buffer.AddRange(batch.Events);
        if (_flushing.IsCompleted)
        {
            _flushing = FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        while (_buffer.Count > 0)
        {
            var take = Math.Min(_buffer.Count, MaxPerTransaction);
            var events = _buffer.GetRange(0, take).ToArray();
            _buffer.RemoveRange(0, take);
            try
            {
                await ApplyAsync(events);
            }
            catch (Exception e)
            {
                // Put them back and try again shortly; if this activation dies first, the relay republishes them.
                _buffer.InsertRange(0, events);
                ServiceProvider.GetRequiredService<ILogger<EventConsumerGrain>>()
                    .LogWarning(e, "Pipeline consumer {Grain} failed to apply {Count} events; retrying", GetType().Name, events.Length);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
