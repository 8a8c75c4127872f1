using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    /// <summary>
    /// GPU time of the work <paramref name="queue"/> puts on this device's stream, between two CUDA events, for
    /// benchmarks: host time would count launch overhead and miss work still queued.
    /// </summary>
    public float MeasureMilliseconds(Action queue)
    {
        MakeCurrent();
        using var start = CreateEvent();
        using var end = CreateEvent();
        Driver.Check(Driver.cuEventRecord(start.DangerousGetHandle(), Stream), nameof(Driver.cuEventRecord));
        queue();
        MakeCurrent();
        Driver.Check(Driver.cuEventRecord(end.DangerousGetHandle(), Stream), nameof(Driver.cuEventRecord));
        Driver.Check(Driver.cuEventSynchronize(end.DangerousGetHandle()), nameof(Driver.cuEventSynchronize));
        float milliseconds;
        Driver.Check(Driver.cuEventElapsedTime(&milliseconds, start.DangerousGetHandle(), end.DangerousGetHandle()), nameof(Driver.cuEventElapsedTime));
        return milliseconds;
    }

    internal static CudaEventHandle CreateEvent()
    {
        nint cudaEvent;
        Driver.Check(Driver.cuEventCreate(&cudaEvent, 0), nameof(Driver.cuEventCreate));
        return new CudaEventHandle(cudaEvent);
    }
}
