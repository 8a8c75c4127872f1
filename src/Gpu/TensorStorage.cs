namespace OrleansQuant.Gpu;

/// <summary>
/// Elements of one type and shape that a device owns, wherever they lie: in its memory (<see cref="DeviceTensor"/>) or
/// in host memory it keeps for itself (<see cref="HostTensor"/>). Disposing gives the memory back, once.
/// </summary>
public abstract class TensorStorage : IDisposable
{
    protected TensorStorage(IComputeDevice device, TensorType type, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        Device = device;
        Type = type;
        Rows = rows;
        Columns = columns;
    }

    public IComputeDevice Device { get; }

    public TensorType Type { get; }

    public int Rows { get; }

    public int Columns { get; }

    public long Length => (long)Rows * Columns;

    public long ByteLength => Length * Type.ElementSize();

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

    /// <summary>Gives the memory back.</summary>
    protected abstract void Release();
}
