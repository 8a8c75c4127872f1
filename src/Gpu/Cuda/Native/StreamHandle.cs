using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned CUDA stream (cuStreamCreate … cuStreamDestroy).</summary>
internal sealed class StreamHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public StreamHandle()
        : base(ownsHandle: true)
    {
    }

    public StreamHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => Driver.cuStreamDestroy(handle) == 0;
}
