using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned CUDA graph, as stream capture returns it (cuStreamEndCapture … cuGraphDestroy).</summary>
internal sealed class GraphHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public GraphHandle()
        : base(ownsHandle: true)
    {
    }

    public GraphHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => Driver.cuGraphDestroy(handle) == 0;
}
