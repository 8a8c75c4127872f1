using Microsoft.Extensions.Options;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Grains.Hosting;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// The compute devices this silo owns, made once at start from <see cref="OrleansQuantOptions.Devices"/>. CPU virtual
/// devices split the host's cores between them, so a silo without GPUs runs the same placement and pipeline code.
/// </summary>
public sealed class DeviceRegistry : IDisposable
{
    private readonly ComputeDeviceSlot[] _slots;

    public DeviceRegistry(IOptions<OrleansQuantOptions> options)
    {
        int count = ParseCpuCount(options.Value.Devices);
        int threads = Math.Max(1, Environment.ProcessorCount / count);
        _slots = Enumerable.Range(0, count)
            .Select(i => new ComputeDeviceSlot(new CpuDevice(i, threads), new Gpu.DeviceWorker($"cpu:{i}")))
            .ToArray();
    }

    public int Count => _slots.Length;

    public ComputeDeviceSlot this[int ordinal] =>
        (uint)ordinal < (uint)_slots.Length
            ? _slots[ordinal]
            : throw new ArgumentOutOfRangeException(nameof(ordinal), $"device {ordinal} does not exist on this silo; it has {_slots.Length}");

    public IReadOnlyList<DeviceDescription> Describe() =>
        _slots.Select(s => s.Device.Info)
            .Select(i => new DeviceDescription(i.Kind.ToString().ToLowerInvariant(), i.Ordinal, i.Name, i.TotalMemoryBytes, i.FreeMemoryBytes))
            .ToArray();

    /// <summary>"cpu:N" or "auto"; anything else names what was expected.</summary>
    public static int ParseCpuCount(string devices)
    {
        if (string.Equals(devices, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return 1;
        }

        const string prefix = "cpu:";
        if (devices.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && int.TryParse(devices[prefix.Length..], out int n) && n is >= 1 and <= 64)
        {
            return n;
        }

        throw new ArgumentException(
            $"OrleansQuant:Devices '{devices}' is not understood; expected 'cpu:N' (1 ≤ N ≤ 64) or 'auto' (CUDA devices are not part of this build)");
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Dispose();
        }
    }
}
