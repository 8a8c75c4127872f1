namespace OrleansQuant.Gpu.Cpu;

/// <summary>
/// Kernels on host cores: System.Numerics.Tensors for vector work and <see cref="Parallel"/> across rows.
/// Several CPU devices in one process split the machine's cores between them, so a silo without GPUs
/// exercises the same placement and pipeline code as one with them.
/// </summary>
public sealed partial class CpuDevice : IComputeDevice
{
    private readonly ParallelOptions _parallel;

    /// <param name="maxThreads">this device's share of the cores; all of them when it is the only device.</param>
    public CpuDevice(int ordinal = 0, int? maxThreads = null)
    {
        if (maxThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, "a CPU device needs at least one thread");
        }

        _parallel = new ParallelOptions { MaxDegreeOfParallelism = maxThreads ?? Environment.ProcessorCount };
        var memory = GC.GetGCMemoryInfo();
        Ordinal = ordinal;
        TotalMemoryBytes = memory.TotalAvailableMemoryBytes;
    }

    public int Ordinal { get; }

    public long TotalMemoryBytes { get; }

    public int Threads => _parallel.MaxDegreeOfParallelism;

    public ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = Threads };

    public DeviceInfo Info
    {
        get
        {
            long used = GC.GetTotalMemory(forceFullCollection: false);
            return new DeviceInfo(DeviceKind.Cpu, Ordinal, $"cpu ({Threads} threads)",
                TotalMemoryBytes, Math.Max(0, TotalMemoryBytes - used));
        }
    }

    public DeviceTensor Allocate(TensorType type, int rows, int columns) => new CpuTensor(this, type, rows, columns);

    // Managed arrays come zeroed; skipping that would need pooled memory, which a host step does not need.
    public DeviceTensor AllocateScratch(TensorType type, int rows, int columns) => Allocate(type, rows, columns);

    public void Upload<T>(ReadOnlySpan<T> source, DeviceTensor destination) where T : unmanaged
    {
        var target = Own(destination).Span<T>();
        RequireLength(source.Length, target.Length, nameof(Upload));
        source.CopyTo(target);
    }

    public void Download<T>(DeviceTensor source, Span<T> destination) where T : unmanaged
    {
        var data = Own(source).Span<T>();
        RequireLength(destination.Length, data.Length, nameof(Download));
        data.CopyTo(destination);
    }

    public HostTensor CopyToHost(DeviceTensor tensor) =>
        new CpuHostTensor(this, tensor.Type, tensor.Rows, tensor.Columns, Own(tensor).CloneData());

    public DeviceTensor CopyToDevice(HostTensor copy)
    {
        if (copy is not CpuHostTensor host || !ReferenceEquals(copy.Device, this))
        {
            throw new ArgumentException($"{nameof(CopyToDevice)}: {copy} was not made by {Info}");
        }

        return new CpuTensor(this, copy.Type, copy.Rows, copy.Columns, (System.Array)host.Elements.Clone());
    }

    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int rows)
    {
        if (source.Columns != destination.Columns || source.Type != destination.Type)
        {
            throw new ArgumentException($"{nameof(CopyRows)}: {source} and {destination} differ in width or type");
        }

        RequireRows(source, sourceRow, rows, nameof(CopyRows));
        RequireRows(destination, destinationRow, rows, nameof(CopyRows));
        int width = source.Columns;
        switch (source.Type)
        {
            case TensorType.Float32:
                Copy<float>();
                break;
            case TensorType.Int8:
                Copy<sbyte>();
                break;
            case TensorType.Int32:
                Copy<int>();
                break;
            case TensorType.Float64:
                Copy<double>();
                break;
            case TensorType.BFloat16:
                Copy<BFloat16>();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Type, $"{nameof(CopyRows)}: unknown tensor type");
        }

        void Copy<T>() where T : unmanaged =>
            Own(source).Span<T>().Slice(sourceRow * width, rows * width).CopyTo(Own(destination).Span<T>().Slice(destinationRow * width));
    }

    /// <summary>Kernels run synchronously on the calling thread (fanned out over cores), so there is nothing to wait for.</summary>
    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }

    private CpuTensor Own(DeviceTensor tensor) =>
        tensor is CpuTensor cpu && ReferenceEquals(tensor.Device, this)
            ? cpu
            : throw new ArgumentException($"tensor {tensor} does not belong to {Info}");

    /// <summary>The elements of an Int32 <c>[1, n]</c> index vector (ids, positions, slots), checked for type and shape.</summary>
    private ReadOnlySpan<int> Indices(DeviceTensor tensor, string what)
    {
        if (tensor.Type != TensorType.Int32 || tensor.Rows != 1)
        {
            throw new ArgumentException($"{what}: expected Int32[1, n], got {tensor}");
        }

        return Own(tensor).Span<int>();
    }
}
