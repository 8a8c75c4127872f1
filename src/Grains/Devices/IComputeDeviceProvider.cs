using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// Makes one kind of device for this silo. Backends register one each (<c>AddCpuDevices()</c>, later
/// <c>AddCudaDevices()</c>), and <see cref="DeviceRegistry"/> asks the one that <see cref="OrleansQuant.Grains.Hosting.OrleansQuantOptions.Devices"/>
/// names, so the registry never knows how a device is built.
/// </summary>
public interface IComputeDeviceProvider
{
    /// <summary>The kind this provider makes; its lower-case name is the prefix of the devices setting ("cpu:2").</summary>
    DeviceKind Kind { get; }

    /// <summary>How many devices "auto" takes from this provider; 0 when this machine has none of its kind.</summary>
    int AutoCount { get; }

    /// <summary>
    /// Makes the devices with these <paramref name="ordinals"/> (the CPU's: 0 … N − 1), each with the worker that is its
    /// stream; the caller owns them. None (a bare kind on a machine without any) or one the machine lacks fails, saying why.
    /// </summary>
    IReadOnlyList<ComputeDeviceSlot> Create(IReadOnlyList<int> ordinals);
}
