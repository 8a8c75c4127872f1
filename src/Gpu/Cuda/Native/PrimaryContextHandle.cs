using Microsoft.Win32.SafeHandles;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>
/// A retained reference to a device's primary context, the one context every library in the process (cuBLASLt, a
/// PyTorch beside us) shares, so memory and modules are not split between contexts of one GPU.
/// </summary>
internal sealed unsafe class PrimaryContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly int _device;

    private PrimaryContextHandle(nint context, int device)
        : base(ownsHandle: true)
    {
        _device = device;
        SetHandle(context);
    }

    public static PrimaryContextHandle Retain(int device)
    {
        nint context;
        Driver.Check(Driver.cuDevicePrimaryCtxRetain(&context, device), nameof(Driver.cuDevicePrimaryCtxRetain));
        return new PrimaryContextHandle(context, device);
    }

    protected override bool ReleaseHandle() => Driver.cuDevicePrimaryCtxRelease(_device) == 0;
}
