namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// A device tensor in GPU memory from the device's stream-ordered pool. Disposing it frees the memory in stream
/// order, so kernels already queued that read it still see it.
/// </summary>
public sealed class CudaTensor : DeviceTensor
{
    private readonly CudaDevice _device;

    internal CudaTensor(CudaDevice device, TensorType type, int rows, int columns, ulong pointer)
        : base(device, type, rows, columns)
    {
        _device = device;
        Pointer = pointer;
    }

    /// <summary>The CUdeviceptr of element 0; 0 for an empty tensor.</summary>
    public ulong Pointer { get; }

    /// <summary>The address of row <paramref name="row"/>.</summary>
    internal ulong Row(int row) => Pointer + (ulong)((long)row * Columns * Type.ElementSize());

    protected override void Release() => _device.Free(Pointer);
}
