using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned cuBLASLt library context (cublasLtCreate … cublasLtDestroy).</summary>
internal sealed class CublasLtHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CublasLtHandle()
        : base(ownsHandle: true)
    {
    }

    public CublasLtHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => CublasLt.cublasLtDestroy(handle) == 0;
}
