using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace OrleansQuant.Grains.Placement;

/// <summary>
/// Places a grain on the silo its creator chose — the one owning the device the model's placement plan gives it.
/// The caller names the silo in the request context of the first call (<see cref="TargetSilo"/>); without one, or
/// when that silo is gone, the grain goes to the silo handling the call.
/// </summary>
[Serializable]
public sealed class SiloTargetPlacement : PlacementStrategy
{
    public const string RequestContextKey = "orleansquant.target-silo";

    internal static SiloTargetPlacement Instance { get; } = new();

    /// <summary>Runs <paramref name="call"/> with the target silo in the request context, so a first activation lands there.</summary>
    public static async Task<T> TargetSilo<T>(string silo, Func<Task<T>> call)
    {
        RequestContext.Set(RequestContextKey, silo);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(RequestContextKey);
        }
    }

    public static Task TargetSilo(string silo, Func<Task> call) => TargetSilo(silo, async () =>
    {
        await call();
        return true;
    });
}

/// <summary>Marks a grain class as placed by <see cref="SiloTargetPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloTargetPlacementAttribute() : PlacementAttribute(SiloTargetPlacement.Instance);

/// <summary>The director behind <see cref="SiloTargetPlacement"/>.</summary>
public sealed class SiloTargetPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (target.RequestContextData is { } data
            && data.TryGetValue(SiloTargetPlacement.RequestContextKey, out var value)
            && value is string text
            && compatible.FirstOrDefault(s => s.ToParsableString() == text) is { } chosen)
        {
            return Task.FromResult(chosen);
        }

        return Task.FromResult(compatible.Contains(context.LocalSilo) ? context.LocalSilo : compatible[0]);
    }
}
