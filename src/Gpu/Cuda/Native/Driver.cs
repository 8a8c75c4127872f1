using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>
/// The CUDA driver API calls this backend uses, bound by their exported symbol names (the <c>_v2</c> ones where
/// cuda.h maps a name to them). Every call goes through <see cref="Check"/>, which names the call and the status.
/// </summary>
internal static unsafe partial class Driver
{
    public const int DeviceAttributeMultiprocessorCount = 16;
    public const int DeviceAttributeComputeCapabilityMajor = 75;
    public const int DeviceAttributeComputeCapabilityMinor = 76;
    public const uint StreamNonBlocking = 1;
    public const int MemPoolAttributeReleaseThreshold = 4;
    public const int ErrorNoDevice = 100;
    public const int FunctionAttributeMaxDynamicSharedSizeBytes = 8;
    public const int DeviceAttributeMaxSharedMemoryPerBlockOptin = 97;

    static Driver() => CudaLibraries.EnsureResolver();

    /// <summary>Turns a status into a <see cref="CudaException"/> naming <paramref name="call"/> and the status name.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException(call, ErrorName(status));
        }
    }

    public static string ErrorName(int status)
    {
        nint name = 0;
        return cuGetErrorName(status, &name) == 0 && name != 0
            ? Marshal.PtrToStringUTF8(name) ?? $"CUresult {status}"
            : $"CUresult {status}";
    }

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuGetErrorName(int error, nint* name);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuInit(uint flags);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDriverGetVersion(int* version);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDeviceGetCount(int* count);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDeviceGet(int* device, int ordinal);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial int cuDevicePrimaryCtxRelease(int device);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuDeviceGetDefaultMemPool(nint* pool, int device);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemPoolSetAttribute(nint pool, int attribute, void* value);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemGetInfo_v2")]
    public static partial int cuMemGetInfo(nuint* free, nuint* total);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuStreamDestroy_v2")]
    public static partial int cuStreamDestroy(nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemAllocAsync(ulong* pointer, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemFreeAsync(ulong pointer, nint stream);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial int cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    public static partial int cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);

    /// <summary>Page-locked host memory (flags 0: portable to this context only), which async copies read at full bandwidth.</summary>
    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemHostAlloc(void** pointer, nuint bytes, uint flags);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemFreeHost(void* pointer);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    public static partial int cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuModuleLoadData(nint* module, void* image);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuModuleUnload(nint module);

    [LibraryImport(CudaLibraries.Driver, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetFunction(nint* function, nint module, string name);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY,
        uint blockZ, uint sharedBytes, nint stream, void** parameters, void** extra);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuLaunchKernelEx(LaunchConfig* config, nint function, void** parameters, void** extra);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    // cuTensorMapEncodeTiled's enums (cuda.h): CU_TENSOR_MAP_DATA_TYPE_UINT8, CU_TENSOR_MAP_INTERLEAVE_NONE,
    // CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE (zeros).
    public const int TensorMapDataTypeUInt8 = 0, TensorMapInterleaveNone = 0, TensorMapSwizzle128B = 3;
    public const int TensorMapL2Promotion256B = 3, TensorMapOutOfBoundsZeros = 0;

    /// <summary>Describes a tiled global tensor for TMA copies (CUDA 12.0+ drivers; Hopper kernels only).</summary>
    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuTensorMapEncodeTiled(TensorMap* map, int dataType, uint rank, void* globalAddress,
        ulong* globalDims, ulong* globalStrides, uint* boxDims, uint* elementStrides, int interleave, int swizzle,
        int l2Promotion, int outOfBoundsFill);

    // ---- Graphs: a decode step recorded by stream capture and replayed (CudaDevice.Graphs.cs).

    /// <summary>
    /// CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: a call that could synchronise implicitly (cuMemAlloc, a synchronous copy)
    /// fails if this thread makes it while capturing, so a step that is not capturable fails loudly; other threads
    /// (other devices' workers in the same process) are not affected, as they would be in the global mode.
    /// </summary>
    public const int StreamCaptureModeThreadLocal = 1;

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuStreamBeginCapture_v2")]
    public static partial int cuStreamBeginCapture(nint stream, int mode);

    /// <summary>Ends a capture; the graph is null (and the status an error) when the capture was invalidated.</summary>
    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuStreamEndCapture(nint stream, nint* graph);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuGraphLaunch(nint graphExec, nint stream);

    /// <summary>Destroys an executable graph; one still running is freed when it completes.</summary>
    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuGraphExecDestroy(nint graphExec);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuGraphDestroy(nint graph);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuEventCreate(nint* cudaEvent, uint flags);

    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuEventDestroy_v2")]
    public static partial int cuEventDestroy(nint cudaEvent);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuEventRecord(nint cudaEvent, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuEventSynchronize(nint cudaEvent);

    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);
}
