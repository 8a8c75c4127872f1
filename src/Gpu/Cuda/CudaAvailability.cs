using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// Whether this process can run CUDA devices, asked once: the driver library loads, cuInit succeeds, there is at
/// least one GPU, and NVRTC (which compiles the kernels) loads. When not, <see cref="Reason"/> says which step failed,
/// so a silo and the GPU tests can print it ("no CUDA device: libcuda.so.1 not found").
/// </summary>
public static unsafe class CudaAvailability
{
    private static readonly Lazy<(int Count, string? Reason)> s_probe = new(Probe);

    /// <summary>GPUs this process sees; 0 when CUDA is unavailable.</summary>
    public static int DeviceCount => s_probe.Value.Count;

    public static bool IsAvailable => s_probe.Value.Reason is null;

    /// <summary>Why there is no CUDA device here, starting "no CUDA device: "; null when there is one.</summary>
    public static string? Reason => s_probe.Value.Reason;

    /// <summary>Where the driver, NVRTC and cuBLASLt were loaded from (those that loaded), for logs.</summary>
    public static string Libraries
    {
        get
        {
            _ = s_probe.Value;
            CudaLibraries.TryLoad(CudaLibraries.CublasLt);
            return CudaLibraries.DescribeLoaded();
        }
    }

    private static (int, string?) Probe()
    {
        const string prefix = "no CUDA device: ";
        try
        {
            if (CudaLibraries.TryLoad(CudaLibraries.Driver) is { } driverMissing)
            {
                return (0, prefix + driverMissing);
            }

            int status = Driver.cuInit(0);
            if (status != 0)
            {
                return (0, $"{prefix}cuInit failed: {Driver.ErrorName(status)}");
            }

            int count;
            status = Driver.cuDeviceGetCount(&count);
            if (status != 0)
            {
                return (0, $"{prefix}cuDeviceGetCount failed: {Driver.ErrorName(status)}");
            }

            if (count == 0)
            {
                return (0, prefix + "cuDeviceGetCount found 0 GPUs");
            }

            if (CudaLibraries.TryLoad(CudaLibraries.Nvrtc) is { } nvrtcMissing)
            {
                return (0, $"{prefix}{nvrtcMissing} (NVRTC compiles the kernels; the driver alone is not enough)");
            }

            return (count, null);
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return (0, prefix + error.Message);
        }
    }
}
