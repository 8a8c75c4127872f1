using System.Reflection;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Tests.Devices;

/// <summary>Stands in for the CUDA provider to come: devices of another kind, named so a test can tell them apart.</summary>
internal sealed class FakeAcceleratorProvider(int autoCount) : IComputeDeviceProvider
{
    public DeviceKind Kind => DeviceKind.Cuda;

    public int AutoCount => autoCount;

    /// <summary>
    /// Like the CUDA provider: refuses with its reason when there is no accelerator, and checks the ordinals the way it
    /// does against <paramref name="autoCount"/> devices.
    /// </summary>
    public IReadOnlyList<ComputeDeviceSlot> Create(IReadOnlyList<int> ordinals)
    {
        if (autoCount == 0)
        {
            throw new InvalidOperationException($"asked for {ordinals.Count} fake devices, but there is no accelerator here");
        }

        CudaDeviceProvider.Check(ordinals, autoCount);
        return ordinals.Select(i => new ComputeDeviceSlot(FakeDevice.Create(i), new DeviceWorker($"fake:{i}"))).ToArray();
    }
}

/// <summary>
/// A device that only describes itself; the registry tests never run kernels on it. A proxy rather than a class, so
/// the kernel interface can grow without this stand-in growing with it: every kernel call throws.
/// </summary>
internal class FakeDevice : DispatchProxy
{
    private DeviceInfo _info = null!;
    private ParallelOptions _parallelism = null!;

    public static IComputeDevice Create(int ordinal)
    {
        var device = DispatchProxy.Create<IComputeDevice, FakeDevice>();
        var fake = (FakeDevice)(object)device;
        fake._info = new DeviceInfo(DeviceKind.Cuda, ordinal, "fake accelerator", 1L << 30, 1L << 30);
        fake._parallelism = new ParallelOptions { MaxDegreeOfParallelism = 1 };
        return device;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
    {
        "get_Info" => _info,
        "get_Parallelism" => _parallelism,
        "Synchronize" or "Dispose" => null,
        _ => throw new NotSupportedException($"the fake accelerator runs no kernels ({method?.Name})"),
    };
}
