using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>An owned executable graph (cuGraphInstantiateWithFlags … cuGraphExecDestroy).</summary>
internal sealed class GraphExecHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public GraphExecHandle()
        : base(ownsHandle: true)
    {
    }

    public GraphExecHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => Driver.cuGraphExecDestroy(handle) == 0;
}
