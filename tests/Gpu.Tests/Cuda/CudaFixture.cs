using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Gpu.Cuda;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>One GPU device and one CPU device shared by a test class (opening a device compiles or loads its kernels).</summary>
public sealed class CudaFixture : IDisposable
{
    private readonly Lazy<CudaDevice> _gpu = new(() => new CudaDevice(0));

    public CudaDevice Gpu => _gpu.Value;

    public CpuDevice Cpu { get; } = new();

    public void Dispose()
    {
        if (_gpu.IsValueCreated)
        {
            _gpu.Value.Dispose();
        }
    }
}
