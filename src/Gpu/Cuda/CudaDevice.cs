using System.Runtime.InteropServices;
using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// One NVIDIA GPU through the CUDA driver API: the device's primary context, one non-blocking stream on which every
/// copy and kernel of this device is queued in call order, kernels compiled from the embedded .cu files by NVRTC, and
/// cuBLASLt for the GEMMs. Each call makes the context current first, so any thread may call (one at a time: the
/// device's <see cref="DeviceWorker"/> serialises them, as a stream does).
/// </summary>
public sealed unsafe partial class CudaDevice : IComputeDevice
{
    private const int RowThreads = 256;

    private readonly PrimaryContextHandle _context;
    private readonly StreamHandle _stream;
    private readonly CudaKernels _kernels;
    private readonly CublasLtMatmul? _cublasLt;
    private bool _disposed;

    /// <summary>Opens GPU <paramref name="ordinal"/> and compiles (or loads from the CUBIN cache) its kernels.</summary>
    /// <exception cref="InvalidOperationException">CUDA is not available here; the message says what is missing.</exception>
    public CudaDevice(int ordinal = 0)
    {
        if (CudaAvailability.Reason is { } reason)
        {
            throw new InvalidOperationException($"cuda:{ordinal}: {reason}");
        }

        if ((uint)ordinal >= (uint)CudaAvailability.DeviceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"cuda:{ordinal} does not exist; this machine has {CudaAvailability.DeviceCount} CUDA devices");
        }

        int device;
        Driver.Check(Driver.cuDeviceGet(&device, ordinal), nameof(Driver.cuDeviceGet));
        Ordinal = ordinal;
        Name = DeviceName(device);
        ComputeCapability = (Attribute(device, Driver.DeviceAttributeComputeCapabilityMajor),
            Attribute(device, Driver.DeviceAttributeComputeCapabilityMinor));
        MultiprocessorCount = Attribute(device, Driver.DeviceAttributeMultiprocessorCount);

        _context = PrimaryContextHandle.Retain(device);
        try
        {
            MakeCurrent();
            KeepPoolMemory(device);
            nint stream;
            Driver.Check(Driver.cuStreamCreate(&stream, Driver.StreamNonBlocking), nameof(Driver.cuStreamCreate));
            _stream = new StreamHandle(stream);
            _kernels = new CudaKernels(ComputeCapability.Major, ComputeCapability.Minor);
            if (CudaLibraries.TryLoad(CudaLibraries.CublasLt) is { } missing)
            {
                CublasLtUnavailable = missing;
            }
            else
            {
                _cublasLt = new CublasLtMatmul(this);
            }
        }
        catch
        {
            _kernels?.Dispose();
            _stream?.Dispose();
            _context.Dispose();
            throw;
        }
    }

    public int Ordinal { get; }

    public string Name { get; }

    public (int Major, int Minor) ComputeCapability { get; }

    public int MultiprocessorCount { get; }

    /// <summary>Why GEMMs run on this backend's own kernels instead of cuBLASLt; null when cuBLASLt loaded.</summary>
    public string? CublasLtUnavailable { get; }

    public DeviceInfo Info
    {
        get
        {
            MakeCurrent();
            nuint free, total;
            Driver.Check(Driver.cuMemGetInfo(&free, &total), nameof(Driver.cuMemGetInfo));
            return new DeviceInfo(DeviceKind.Cuda, Ordinal, Name, (long)total, (long)free);
        }
    }

    /// <summary>Host-side maths run for this device (GPTQ until it moves to the GPU) may use every core.</summary>
    public ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    internal nint Stream => _stream.DangerousGetHandle();

    public DeviceTensor Allocate(TensorType type, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long bytes = (long)rows * columns * type.ElementSize();
        // Zeroed like a CPU tensor, in stream order, so code that relies on fresh tensors being zero behaves the same.
        ulong pointer = Alloc(bytes);
        if (bytes > 0)
        {
            Driver.Check(Driver.cuMemsetD8Async(pointer, 0, (nuint)bytes, Stream), nameof(Driver.cuMemsetD8Async));
        }

        return new CudaTensor(this, type, rows, columns, pointer);
    }

    public DeviceTensor AllocateScratch(TensorType type, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        return new CudaTensor(this, type, rows, columns, Alloc((long)rows * columns * type.ElementSize()));
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceTensor destination) where T : unmanaged
    {
        var target = Own(destination, nameof(Upload));
        RequireElementType<T>(target, nameof(Upload));
        RequireLength(source.Length, target.Length, nameof(Upload));
        if (source.IsEmpty)
        {
            return;
        }

        MakeCurrent();
        // From pageable memory the driver returns once the bytes are staged, so the span may be reused at once.
        fixed (T* host = source)
        {
            Driver.Check(Driver.cuMemcpyHtoDAsync(target.Pointer, host, (nuint)target.ByteLength, Stream), nameof(Driver.cuMemcpyHtoDAsync));
        }
    }

    public void Download<T>(DeviceTensor source, Span<T> destination) where T : unmanaged
    {
        var data = Own(source, nameof(Download));
        RequireElementType<T>(data, nameof(Download));
        RequireLength(destination.Length, data.Length, nameof(Download));
        MakeCurrent();
        fixed (T* host = destination)
        {
            if (!destination.IsEmpty)
            {
                Driver.Check(Driver.cuMemcpyDtoHAsync(host, data.Pointer, (nuint)data.ByteLength, Stream), nameof(Driver.cuMemcpyDtoHAsync));
            }

            Driver.Check(Driver.cuStreamSynchronize(Stream), nameof(Driver.cuStreamSynchronize) + " after " + nameof(Download));
        }
    }

    public HostTensor CopyToHost(DeviceTensor tensor)
    {
        var data = Own(tensor, nameof(CopyToHost));
        MakeCurrent();
        void* host = null;
        if (data.ByteLength > 0)
        {
            Driver.Check(Driver.cuMemHostAlloc(&host, (nuint)data.ByteLength, 0), nameof(Driver.cuMemHostAlloc));
            Driver.Check(Driver.cuMemcpyDtoHAsync(host, data.Pointer, (nuint)data.ByteLength, Stream), nameof(Driver.cuMemcpyDtoHAsync) + " in " + nameof(CopyToHost));
        }

        return new CudaHostTensor(this, tensor.Type, tensor.Rows, tensor.Columns, host);
    }

    public DeviceTensor CopyToDevice(HostTensor copy)
    {
        if (copy is not CudaHostTensor host || !ReferenceEquals(copy.Device, this) || copy.IsDisposed)
        {
            throw new ArgumentException($"{nameof(CopyToDevice)}: {copy} was not made by {Info}, or was disposed");
        }

        var tensor = new CudaTensor(this, copy.Type, copy.Rows, copy.Columns, Alloc(copy.ByteLength));
        if (copy.ByteLength > 0)
        {
            MakeCurrent();
            Driver.Check(Driver.cuMemcpyHtoDAsync(tensor.Pointer, host.Pointer, (nuint)copy.ByteLength, Stream), nameof(Driver.cuMemcpyHtoDAsync) + " in " + nameof(CopyToDevice));
        }

        return tensor;
    }

    /// <summary>Gives page-locked host memory back once every copy queued on the stream (which may read or fill it) has run.</summary>
    internal void FreeHost(void* pointer)
    {
        if (pointer is null)
        {
            return;
        }

        MakeCurrent();
        Driver.Check(Driver.cuStreamSynchronize(Stream), nameof(Driver.cuStreamSynchronize) + " before " + nameof(Driver.cuMemFreeHost));
        Driver.Check(Driver.cuMemFreeHost(pointer), nameof(Driver.cuMemFreeHost));
    }

    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int rows)
    {
        var from = Own(source, nameof(CopyRows));
        var to = Own(destination, nameof(CopyRows));
        if (source.Columns != destination.Columns || source.Type != destination.Type)
        {
            throw new ArgumentException($"{nameof(CopyRows)}: {source} and {destination} differ in width or type");
        }

        RequireRows(source, sourceRow, rows, nameof(CopyRows));
        RequireRows(destination, destinationRow, rows, nameof(CopyRows));
        long bytes = (long)rows * source.Columns * source.Type.ElementSize();
        if (bytes == 0)
        {
            return;
        }

        MakeCurrent();
        Driver.Check(Driver.cuMemcpyDtoDAsync(to.Row(destinationRow), from.Row(sourceRow), (nuint)bytes, Stream), nameof(Driver.cuMemcpyDtoDAsync));
    }

    public void Synchronize()
    {
        MakeCurrent();
        Driver.Check(Driver.cuStreamSynchronize(Stream), nameof(Driver.cuStreamSynchronize));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        MakeCurrent();
        // Work still queued may read memory freed below; wait for it, but let disposal finish even if it failed.
        Driver.cuStreamSynchronize(Stream);
        DestroyStepGraphs();
        _cublasLt?.Dispose();
        _gram?.Dispose();
        Free(_gramPartial);
        _gemm64?.Dispose();
        _solver?.Dispose();
        _disposed = true;
        _kernels.Dispose();
        _stream.Dispose();
        _context.Dispose();
    }

    /// <summary>Makes this device's context the calling thread's; cheap, so every call does it.</summary>
    internal void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Driver.Check(Driver.cuCtxSetCurrent(_context.DangerousGetHandle()), nameof(Driver.cuCtxSetCurrent));
    }

    /// <summary>Stream-ordered device memory; 0 for 0 bytes.</summary>
    internal ulong Alloc(long bytes)
    {
        if (bytes == 0)
        {
            return 0;
        }

        MakeCurrent();
        ulong pointer;
        int status = Driver.cuMemAllocAsync(&pointer, (nuint)bytes, Stream);
        if (status != 0)
        {
            throw new CudaException(nameof(Driver.cuMemAllocAsync), Driver.ErrorName(status), $"{bytes} bytes on {this}");
        }

        return pointer;
    }

    /// <summary>Frees in stream order: kernels queued before this still read valid memory. After disposal, a no-op.</summary>
    internal void Free(ulong pointer)
    {
        if (pointer == 0 || _disposed)
        {
            return;
        }

        MakeCurrent();
        Driver.Check(Driver.cuMemFreeAsync(pointer, Stream), nameof(Driver.cuMemFreeAsync));
    }

    /// <summary>Queues a kernel on this device's stream.</summary>
    internal void Launch(string kernel, uint gridX, uint gridY, uint blockX, uint sharedBytes, void** arguments) =>
        Launch(kernel, gridX, gridY, blockX, 1, sharedBytes, arguments);

    internal void Launch(string kernel, uint gridX, uint gridY, uint blockX, uint blockY, uint sharedBytes, void** arguments) =>
        Launch(kernel, gridX, gridY, 1, blockX, blockY, sharedBytes, arguments);

    internal void Launch(string kernel, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint sharedBytes, void** arguments)
    {
        if (gridX == 0 || gridY == 0 || gridZ == 0)
        {
            return;
        }

        nint function = Function(kernel, sharedBytes);
        Profile?.Begin(Stream);
        Driver.Check(Driver.cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, 1, sharedBytes, Stream, arguments, null),
            $"{nameof(Driver.cuLaunchKernel)}({kernel})");
        Profile?.End(kernel, Stream);
    }

    /// <summary>While set, every launch and GEMM is timed on the GPU (<see cref="KernelProfile"/>); disposing it turns it off.</summary>
    public KernelProfile? Profile { get; internal set; }

    /// <summary>Starts timing every kernel queued from now on, until the returned profile is disposed.</summary>
    public KernelProfile StartProfile() => Profile = new KernelProfile(this);

    /// <summary>A kernel's function, this device's context current and the kernel allowed <paramref name="sharedBytes"/> of dynamic shared memory.</summary>
    private nint Function(string kernel, uint sharedBytes)
    {
        MakeCurrent();
        nint function = _kernels[kernel];
        if (sharedBytes > 48 * 1024)
        {
            AllowSharedMemory(kernel, function, sharedBytes);
        }

        return function;
    }

    // A block gets more than 48 KB of dynamic shared memory only once its function's limit is raised; raised once per
    // kernel, to the most any launch of it asked for.
    private readonly Dictionary<string, uint> _sharedLimits = new(StringComparer.Ordinal);

    private void AllowSharedMemory(string kernel, nint function, uint sharedBytes)
    {
        if (_sharedLimits.TryGetValue(kernel, out uint limit) && limit >= sharedBytes)
        {
            return;
        }

        Driver.Check(Driver.cuFuncSetAttribute(function, Driver.FunctionAttributeMaxDynamicSharedSizeBytes, (int)sharedBytes),
            $"{nameof(Driver.cuFuncSetAttribute)}({kernel}, {sharedBytes} bytes of shared memory)");
        _sharedLimits[kernel] = sharedBytes;
    }

    /// <summary>Blocks for a grid-stride kernel over <paramref name="count"/> elements: enough to fill the GPU, no more.</summary>
    internal uint GridFor(long count) => (uint)Math.Clamp((count + RowThreads - 1) / RowThreads, 1, MultiprocessorCount * 32L);

    public override string ToString() => $"cuda:{Ordinal} ({Name})";

    private static string DeviceName(int device)
    {
        byte* name = stackalloc byte[256];
        Driver.Check(Driver.cuDeviceGetName(name, 256, device), nameof(Driver.cuDeviceGetName));
        return Marshal.PtrToStringUTF8((nint)name) ?? $"CUDA device {device}";
    }

    private static int Attribute(int device, int attribute)
    {
        int value;
        Driver.Check(Driver.cuDeviceGetAttribute(&value, attribute, device), $"{nameof(Driver.cuDeviceGetAttribute)}({attribute})");
        return value;
    }

    // The default pool returns memory to the driver at every synchronize; per-call scratch tensors would then pay a
    // real allocation each time. Keeping freed memory in the pool makes them a pointer bump.
    private static void KeepPoolMemory(int device)
    {
        nint pool;
        Driver.Check(Driver.cuDeviceGetDefaultMemPool(&pool, device), nameof(Driver.cuDeviceGetDefaultMemPool));
        ulong threshold = ulong.MaxValue;
        Driver.Check(Driver.cuMemPoolSetAttribute(pool, Driver.MemPoolAttributeReleaseThreshold, &threshold), nameof(Driver.cuMemPoolSetAttribute));
    }

    private CudaTensor Own(DeviceTensor tensor, string call)
    {
        ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
        return tensor is CudaTensor cuda && ReferenceEquals(tensor.Device, this)
            ? cuda
            : throw new ArgumentException($"{call}: tensor {tensor} does not belong to {this}");
    }

    private static void RequireElementType<T>(DeviceTensor tensor, string call) where T : unmanaged
    {
        if (TensorTypeExtensions.Of<T>() != tensor.Type)
        {
            throw new ArgumentException($"{call}: tensor {tensor} read or written as {typeof(T).Name}");
        }
    }
}
