using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned cuBLASLt matmul preference: the limits the heuristic searches within.</summary>
internal sealed class MatmulPreferenceHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MatmulPreferenceHandle()
        : base(ownsHandle: true)
    {
    }

    public MatmulPreferenceHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => CublasLt.cublasLtMatmulPreferenceDestroy(handle) == 0;
}
