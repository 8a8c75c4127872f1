using OrleansQuant.Gpu.Cuda;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// A test that needs a CUDA GPU: skipped, with the reason printed ("no CUDA device: libcuda.so.1 not found"), where
/// there is none, as in CI. Pair it with <c>[Trait("Category", "Gpu")]</c> so a GPU run can select just these.
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (CudaAvailability.Reason is { } reason)
        {
            Skip = reason;
        }
    }
}
