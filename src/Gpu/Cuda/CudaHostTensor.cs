using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>A GPU tensor's copy in page-locked host memory (<c>cuMemHostAlloc</c>), filled and read back on the device's stream.</summary>
internal sealed unsafe class CudaHostTensor : HostTensor
{
    private readonly CudaDevice _device;

    internal CudaHostTensor(CudaDevice device, TensorType type, int rows, int columns, void* pointer)
        : base(device, type, rows, columns)
    {
        _device = device;
        Pointer = pointer;
    }

    /// <summary>The page-locked bytes; null for an empty tensor.</summary>
    internal void* Pointer { get; }

    // A copy into or out of these bytes may still be queued: wait for the stream before giving them back.
    protected override void Release() => _device.FreeHost(Pointer);
}
