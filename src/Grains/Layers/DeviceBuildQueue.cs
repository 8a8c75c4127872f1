using System.Runtime.CompilerServices;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Layers;

/// <summary>
/// One quantization build at a time per device, holding the device's share of the process's cores while it runs.
/// Builds run beside the device's stream (forward passes go on), but a device given all its layers' builds at once
/// would only split its cores and memory between them: a layer waits here instead, and its coordinator's bounded
/// waits measure work, not a pile-up.
/// </summary>
internal static class DeviceBuildQueue
{
    private static readonly ConditionalWeakTable<ComputeDeviceSlot, SemaphoreSlim> s_gates = new();

    /// <summary>Runs <paramref name="build"/> once it is this device's turn and the cores it uses are free in <paramref name="budget"/>.</summary>
    public static async Task<T> Run<T>(ComputeDeviceSlot slot, CpuComputeBudget budget, Func<T> build, CancellationToken cancellation)
    {
        var gate = s_gates.GetValue(slot, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellation);
        try
        {
            using var lease = await budget.AcquireAsync(slot.Device.Parallelism.MaxDegreeOfParallelism, cancellation);
            return await Task.Run(build, cancellation);
        }
        finally
        {
            gate.Release();
        }
    }
}
