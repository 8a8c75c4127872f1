namespace OrleansQuant.Gpu;

/// <summary>
/// A row-major matrix owned by one device. Everything the model holds on a device is one of these:
/// weights <c>[out, in]</c>, activations <c>[tokens, features]</c>, vectors <c>[1, n]</c>.
/// Only the owning device reads or writes its elements.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    protected DeviceTensor(IComputeDevice device, TensorType type, int rows, int columns)
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

    /// <summary>Gives the memory back to the device.</summary>
    protected abstract void Release();

    public override string ToString() => $"{Type}[{Rows}, {Columns}] on {Device.Info}";
}
