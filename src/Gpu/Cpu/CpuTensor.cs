using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cpu;

/// <summary>A device tensor in managed memory: one typed array of <c>Rows × Columns</c> elements.</summary>
public sealed class CpuTensor : DeviceTensor
{
    private System.Array? _data;

    internal CpuTensor(CpuDevice device, TensorType type, int rows, int columns)
        : base(device, type, rows, columns)
    {
        long length = (long)rows * columns;
        if (length > System.Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"a CPU tensor holds at most {System.Array.MaxLength} elements; [{rows}, {columns}] asked for {length}");
        }

        _data = type switch
        {
            TensorType.Float32 => new float[length],
            TensorType.Int8 => new sbyte[length],
            TensorType.Int32 => new int[length],
            TensorType.Float64 => new double[length],
            TensorType.BFloat16 => new BFloat16[length],
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor type"),
        };
    }

    /// <summary>The elements, reinterpreted as <typeparamref name="T"/>, which must match <see cref="DeviceTensor.Type"/>.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_data is null, this);
        if (TensorTypeExtensions.Of<T>() != Type)
        {
            throw new InvalidOperationException($"tensor {this} read as {typeof(T).Name}");
        }

        return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference((T[])_data), (int)Length);
    }

    /// <summary>The row-major array itself, for kernels that capture it in parallel loops (spans cannot be captured).</summary>
    public T[] Array<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_data is null, this);
        return _data as T[] ?? throw new InvalidOperationException($"tensor {this} read as {typeof(T).Name}");
    }

    /// <summary>A fresh copy of the elements (for <see cref="CpuDevice.CopyToHost"/>).</summary>
    internal System.Array CloneData()
    {
        ObjectDisposedException.ThrowIf(_data is null, this);
        return (System.Array)_data.Clone();
    }

    /// <summary>A tensor over <paramref name="data"/> (a copy the caller gives up), for <see cref="CpuDevice.CopyToDevice"/>.</summary>
    internal CpuTensor(CpuDevice device, TensorType type, int rows, int columns, System.Array data)
        : base(device, type, rows, columns)
    {
        _data = data;
    }

    protected override void Release() => _data = null;
}
