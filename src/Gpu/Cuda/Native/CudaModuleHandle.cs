using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned CUDA module, one compiled kernel file (cuModuleLoadData … cuModuleUnload).</summary>
internal sealed class CudaModuleHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaModuleHandle()
        : base(ownsHandle: true)
    {
    }

    public CudaModuleHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => Driver.cuModuleUnload(handle) == 0;
}
