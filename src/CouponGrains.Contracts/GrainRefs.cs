using System.Runtime.CompilerServices;

namespace CouponGrains.Contracts;

/// <summary>
/// Grain references by key without Orleans' per-call type resolution, and without building a new proxy
/// for a key met a moment ago.
/// </summary>
/// <remarks>
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves T's grain interface type and grain type by
/// reflection on every call (attribute reads and type-name formatting); on the redemption path that was
/// 5–8 % of the silo's CPU in <c>perf</c>. Both types depend only on T, so they are resolved once per
/// interface, through Orleans' own GetGrain, and every later reference is built from a
/// <see cref="GrainId"/>. A reference is what GetGrain would have returned: same id, same interface.
/// <para>
/// Building the reference is itself costly: each new proxy resolves a copier for every array parameter
/// of its interface through the service provider, by reflection. The redemption path and the ledger's
/// confirms ask for the same campaigns, coupons and cap shards all the time, so the references of each
/// grain factory are remembered, up to <see cref="MaxRemembered"/> per interface and then forgotten all
/// at once. References are immutable and thread-safe; keyed by factory, a reference never crosses
/// from one silo or client to another.
/// </para>
/// </remarks>
public static class GrainRefs
{
    public const int MaxRemembered = 50_000;

    public static T Ref<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var known = Known<T, string>.Of(grains);
        if (known.TryGetValue(key, out var reference))
        {
            return reference;
        }

        reference = Types<T>.Resolved is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface)
            : Remember(grains.GetGrain<T>(key));
        known.Set(key, reference);
        return reference;
    }

    public static T Ref<T>(this IGrainFactory grains, long key) where T : IGrainWithIntegerKey
    {
        var known = Known<T, long>.Of(grains);
        if (known.TryGetValue(key, out var reference))
        {
            return reference;
        }

        reference = Types<T>.Resolved is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, GrainIdKeyExtensions.CreateIntegerKey(key)), types.Interface)
            : Remember(grains.GetGrain<T>(key));
        known.Set(key, reference);
        return reference;
    }

    private static T Remember<T>(T reference)
    {
        var resolved = (GrainReference)(object)reference!;
        Types<T>.Resolved = new GrainTypes(resolved.GrainId.Type, resolved.InterfaceType);
        return reference;
    }

    private sealed record GrainTypes(GrainType Grain, GrainInterfaceType Interface);

    private static class Types<T>
    {
        public static GrainTypes? Resolved;
    }

    /// <summary>The references of interface T one factory handed out lately, by key.</summary>
    private static class Known<T, TKey> where TKey : notnull
    {
        private static readonly ConditionalWeakTable<IGrainFactory, BoundedMap<TKey, T>> s_byFactory = new();

        public static BoundedMap<TKey, T> Of(IGrainFactory grains) =>
            s_byFactory.GetValue(grains, static _ => new BoundedMap<TKey, T>(MaxRemembered));
    }
}
