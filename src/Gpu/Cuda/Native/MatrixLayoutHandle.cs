using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned cuBLASLt matrix layout: type, rows, columns, leading dimension (column-major).</summary>
internal sealed class MatrixLayoutHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MatrixLayoutHandle()
        : base(ownsHandle: true)
    {
    }

    public MatrixLayoutHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => CublasLt.cublasLtMatrixLayoutDestroy(handle) == 0;
}
