using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>One device of this silo with the worker thread that is its stream.</summary>
public sealed class ComputeDeviceSlot(IComputeDevice device, DeviceWorker worker) : IDisposable
{
    public IComputeDevice Device { get; } = device;

    public DeviceWorker Worker { get; } = worker;

    public void Dispose()
    {
        Worker.Dispose();
        Device.Dispose();
    }
}
