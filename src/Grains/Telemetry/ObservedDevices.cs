using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Telemetry;

/// <summary>
/// The device registries of the silos running in this process, for <see cref="OrleansQuantMetrics.DeviceMemoryUsed"/>:
/// the gauge is static, the registries belong to silos (a test process may run several), so each silo adds its own while
/// it runs and removes it when it stops.
/// </summary>
internal static class ObservedDevices
{
    private static readonly ConcurrentDictionary<DeviceRegistry, string> s_registries = new();

    public static void Add(DeviceRegistry registry, string silo) => s_registries[registry] = silo;

    public static void Remove(DeviceRegistry registry) => s_registries.TryRemove(registry, out _);

    /// <summary>Asks every device now (cuMemGetInfo on a GPU, the GC's heap size on the CPU); runs only when scraped.</summary>
    public static IEnumerable<Measurement<long>> MemoryUsed()
    {
        foreach (var (registry, silo) in s_registries)
        {
            foreach (var device in registry.Describe())
            {
                yield return new Measurement<long>(device.TotalMemoryBytes - device.FreeMemoryBytes,
                    new KeyValuePair<string, object?>(OrleansQuantMetrics.DeviceTag, $"{device.Kind}:{device.Ordinal}"),
                    new KeyValuePair<string, object?>(OrleansQuantMetrics.SiloTag, silo));
            }
        }
    }
}
