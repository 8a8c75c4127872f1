using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned cuBLASLt matmul descriptor: compute type, scale type, transposes.</summary>
internal sealed class MatmulDescHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MatmulDescHandle()
        : base(ownsHandle: true)
    {
    }

    public MatmulDescHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => CublasLt.cublasLtMatmulDescDestroy(handle) == 0;
}
