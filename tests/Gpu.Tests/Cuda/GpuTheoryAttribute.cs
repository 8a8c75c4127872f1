using OrleansQuant.Gpu.Cuda;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>The <see cref="GpuFactAttribute"/> for theories: skipped with the printed reason where there is no CUDA GPU.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (CudaAvailability.Reason is { } reason)
        {
            Skip = reason;
        }
    }
}
