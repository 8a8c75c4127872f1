using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned CUDA event, for timing work on a stream (cuEventCreate … cuEventDestroy).</summary>
internal sealed class CudaEventHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaEventHandle()
        : base(ownsHandle: true)
    {
    }

    public CudaEventHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => Driver.cuEventDestroy(handle) == 0;
}
