namespace CouponGrains.Contracts;

/// <summary>
/// Grain references by string key without Orleans' per-call type resolution.
/// </summary>
/// <remarks>
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves T's grain interface type and grain type by
/// reflection on every call (attribute reads and type-name formatting); on the redemption path that was
/// 5–8 % of the silo's CPU in <c>perf</c>. Both types depend only on T, so they are resolved once per
/// interface, through Orleans' own GetGrain, and every later reference is built from a
/// <see cref="GrainId"/>. A reference is what GetGrain would have returned: same id, same interface.
/// </remarks>
public static class GrainRefs
{
    public static T Ref<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey =>
        Types<T>.Resolved is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface)
            : Remember(grains.GetGrain<T>(key));

    public static T Ref<T>(this IGrainFactory grains, long key) where T : IGrainWithIntegerKey =>
        Types<T>.Resolved is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, GrainIdKeyExtensions.CreateIntegerKey(key)), types.Interface)
            : Remember(grains.GetGrain<T>(key));

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
}
