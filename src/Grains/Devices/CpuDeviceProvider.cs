using Microsoft.Extensions.Logging;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// CPU devices as slices of the process's one <see cref="CpuComputeBudget"/>: each gets its share of the cores for its
/// kernels, and its worker holds that many cores of the budget while it runs an item. So <c>cpu:N</c> with more devices
/// than cores queues work in arrival order instead of running N workers at once, and every silo of a process (a test
/// cluster) draws on the same cores.
/// </summary>
public sealed class CpuDeviceProvider(CpuComputeBudget budget, ILogger<CpuDeviceProvider> logger) : IComputeDeviceProvider
{
    public DeviceKind Kind => DeviceKind.Cpu;

    /// <summary>One device with every core: without a GPU, "auto" should not split a layer's work.</summary>
    public int AutoCount => 1;

    /// <summary>CPU devices are counted ("cpu:N"): the ordinals are 0 … N − 1.</summary>
    public IReadOnlyList<ComputeDeviceSlot> Create(IReadOnlyList<int> ordinals)
    {
        int count = ordinals.Count;
        if (count < 1 || !ordinals.SequenceEqual(Enumerable.Range(0, count)))
        {
            throw new ArgumentException($"{DeviceSpec.Setting}: CPU devices are counted, 0 … N − 1 (1 ≤ N ≤ {DeviceSpec.MaxCount}); got ordinals [{string.Join(", ", ordinals)}]", nameof(ordinals));
        }

        var slots = new ComputeDeviceSlot[count];
        for (int i = 0; i < count; i++)
        {
            int threads = budget.ShareOf(i, count);
            slots[i] = new ComputeDeviceSlot(new CpuDevice(i, threads), new DeviceWorker($"cpu:{i}", budget, threads));
        }

        if (count > budget.Cores)
        {
            logger.LogInformation("{Devices} CPU devices share {Cores} cores: one thread each, work queued in arrival order",
                count, budget.Cores);
        }
        else
        {
            logger.LogInformation("{Devices} CPU devices share {Cores} cores: {Threads} threads each",
                count, budget.Cores, string.Join("/", slots.Select(s => s.Device.Parallelism.MaxDegreeOfParallelism)));
        }

        return slots;
    }
}
