namespace OrleansQuant.Gpu;

/// <summary>
/// A copy of a device tensor kept in host memory for its device — page-locked on a GPU, so it goes back at full copy
/// bandwidth — for data a device keeps but rarely reads (a layer's full-precision weights, kept for re-quantization,
/// when device memory is short). Kernels never read it: <see cref="IComputeDevice.CopyToDevice"/> brings it back.
/// </summary>
public abstract class HostTensor : IDisposable
{
    protected HostTensor(IComputeDevice device, TensorType type, int rows, int columns)
    {
        Device = device;
        Type = type;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The device that made the copy and is the only one that reads it back.</summary>
    public IComputeDevice Device { get; }

    public TensorType Type { get; }

    public int Rows { get; }

    public int Columns { get; }

    public long ByteLength => (long)Rows * Columns * Type.ElementSize();

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();

    public override string ToString() => $"{Type}[{Rows}, {Columns}] in host memory of {Device.Info}";
}
