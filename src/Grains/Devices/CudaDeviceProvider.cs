using Microsoft.Extensions.Logging;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cuda;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// NVIDIA GPUs through <see cref="CudaDevice"/>: one device per GPU, each with a worker of its own (a GPU's compute is
/// not the host's cores, so no <see cref="CpuComputeBudget"/> is drawn). Where CUDA is missing, "auto" sees no devices
/// and falls back to the CPU, and an explicit "cuda" setting fails with the reason (which library is missing).
/// </summary>
public sealed class CudaDeviceProvider(ILogger<CudaDeviceProvider> logger) : IComputeDeviceProvider
{
    public DeviceKind Kind => DeviceKind.Cuda;

    public int AutoCount
    {
        get
        {
            if (CudaAvailability.Reason is { } reason)
            {
                logger.LogInformation("CUDA devices: none ({Reason})", reason);
                return 0;
            }

            return CudaAvailability.DeviceCount;
        }
    }

    /// <summary>GPUs 0 … <paramref name="count"/> − 1; 0 (a bare "cuda" setting on a machine without CUDA) fails with the reason.</summary>
    public IReadOnlyList<ComputeDeviceSlot> Create(int count)
    {
        if (CudaAvailability.Reason is { } reason)
        {
            throw new InvalidOperationException($"{DeviceSpec.Setting} asks for CUDA devices, but there are none here: {reason}");
        }

        if (count < 1 || count > CudaAvailability.DeviceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"{DeviceSpec.Setting} asks for {count} CUDA devices; this machine has {CudaAvailability.DeviceCount}");
        }

        var slots = new List<ComputeDeviceSlot>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var device = new CudaDevice(i);
                slots.Add(new ComputeDeviceSlot(device, new DeviceWorker($"cuda:{i}")));
                logger.LogInformation("cuda:{Ordinal} {Name}, sm_{Major}{Minor}, {Sms} SMs; GEMMs on {Gemm}", i, device.Name,
                    device.ComputeCapability.Major, device.ComputeCapability.Minor, device.MultiprocessorCount,
                    device.CublasLtUnavailable is { } missing ? $"own kernels ({missing})" : "cuBLASLt");
            }
        }
        catch
        {
            foreach (var slot in slots)
            {
                slot.Dispose();
            }

            throw;
        }

        return slots;
    }
}
