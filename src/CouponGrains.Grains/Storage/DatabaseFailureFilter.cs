using CouponGrains.Contracts;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// Turns a grain call that failed because PostgreSQL could not serve it into <see cref="DatabaseUnavailableException"/>,
/// which crosses to any API host whole; Orleans has no codec for the driver's exceptions. Other failures pass
/// untouched. A call that completed synchronously costs one check.
/// </summary>
public sealed class DatabaseFailureFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        var call = context.Invoke();
        return call.IsCompletedSuccessfully ? Task.CompletedTask : AwaitAsync(call);
    }

    private static async Task AwaitAsync(Task call)
    {
        try
        {
            await call;
        }
        catch (Exception ex) when (ex is not DatabaseUnavailableException && DatabaseUnavailableException.Find(ex) is { } database)
        {
            throw new DatabaseUnavailableException($"{database.GetType().Name}: {database.Message}");
        }
    }
}
