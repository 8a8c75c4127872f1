using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned cuSOLVER dense context (cusolverDnCreate … cusolverDnDestroy).</summary>
internal sealed class CuSolverHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CuSolverHandle()
        : base(ownsHandle: true)
    {
    }

    public CuSolverHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => CuSolver.cusolverDnDestroy(handle) == 0;
}
