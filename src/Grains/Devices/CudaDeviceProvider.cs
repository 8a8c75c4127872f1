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

    /// <summary>
    /// The GPUs with these CUDA ordinals (PyTorch's numbering: "cuda:1" is the second); none (a bare "cuda" setting on a
    /// machine without CUDA) fails with the reason, and an ordinal the machine lacks names itself and how many GPUs there are.
    /// </summary>
    public IReadOnlyList<ComputeDeviceSlot> Create(IReadOnlyList<int> ordinals)
    {
        if (CudaAvailability.Reason is { } reason)
        {
            throw new InvalidOperationException($"{DeviceSpec.Setting} asks for CUDA devices, but there are none here: {reason}");
        }

        Check(ordinals, CudaAvailability.DeviceCount);
        var slots = new List<ComputeDeviceSlot>(ordinals.Count);
        try
        {
            foreach (int i in ordinals)
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

    /// <summary>Refuses an empty list, a repeated ordinal, or one this machine, with <paramref name="gpus"/> GPUs, lacks.</summary>
    public static void Check(IReadOnlyList<int> ordinals, int gpus)
    {
        if (ordinals.Count == 0)
        {
            throw new ArgumentException($"{DeviceSpec.Setting} asks for no CUDA device; this machine has {Gpus(gpus)}", nameof(ordinals));
        }

        foreach (int ordinal in ordinals)
        {
            if (ordinal < 0 || ordinal >= gpus)
            {
                throw new ArgumentOutOfRangeException(nameof(ordinals),
                    $"{DeviceSpec.Setting} asks for CUDA device {ordinal}, but this machine has {Gpus(gpus)}");
            }
        }

        if (ordinals.Distinct().Count() != ordinals.Count)
        {
            throw new ArgumentException($"{DeviceSpec.Setting} names a CUDA device twice: [{string.Join(", ", ordinals)}]; expected distinct ordinals", nameof(ordinals));
        }
    }

    private static string Gpus(int gpus) => gpus switch
    {
        0 => "no GPU",
        1 => "1 GPU (ordinal 0)",
        _ => $"{gpus} GPUs (ordinals 0–{gpus - 1})",
    };
}
