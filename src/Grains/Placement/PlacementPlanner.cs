using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Placement;

/// <summary>Where one layer goes: a silo and one of its devices.</summary>
[GenerateSerializer, Immutable]
public sealed record LayerPlacement([property: Id(0)] int Layer, [property: Id(1)] string Silo, [property: Id(2)] int Device);

/// <summary>
/// Splits a model's layers into contiguous ranges, one per device, sized by each device's free memory (largest
/// remainder), so consecutive layers share a device as often as possible and activations rarely cross the network.
/// Devices are taken in a fixed order — silo address, then ordinal — so the same cluster gives the same plan.
/// </summary>
public static class PlacementPlanner
{
    public static IReadOnlyList<LayerPlacement> Plan(int layers, IReadOnlyList<SiloDevices> silos, long bytesPerLayer)
    {
        var devices = silos.OrderBy(s => s.Silo, StringComparer.Ordinal)
            .SelectMany(s => s.Devices.OrderBy(d => d.Ordinal).Select(d => (s.Silo, Device: d)))
            .ToArray();
        if (devices.Length == 0)
        {
            throw new InvalidOperationException("no silo reported a compute device; start silos with OrleansQuant:Devices set");
        }

        double totalFree = devices.Sum(d => (double)Math.Max(d.Device.FreeMemoryBytes, 1));
        var exact = devices.Select(d => layers * Math.Max(d.Device.FreeMemoryBytes, 1) / totalFree).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (int i in Enumerable.Range(0, devices.Length).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(layers - counts.Sum()))
        {
            counts[i]++;
        }

        var plan = new List<LayerPlacement>(layers);
        for (int d = 0; d < devices.Length; d++)
        {
            long needed = counts[d] * bytesPerLayer;
            if (needed > devices[d].Device.FreeMemoryBytes)
            {
                throw new InvalidOperationException(
                    $"{counts[d]} layers need {needed >> 20} MiB on {devices[d].Silo} device {devices[d].Device.Ordinal}, which has {devices[d].Device.FreeMemoryBytes >> 20} MiB free; add devices");
            }

            for (int i = 0; i < counts[d]; i++)
            {
                plan.Add(new LayerPlacement(plan.Count, devices[d].Silo, devices[d].Device.Ordinal));
            }
        }

        return plan;
    }
}
