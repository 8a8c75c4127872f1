using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// What every cuBLASLt user of a device holds: a handle, a workspace on the device, and its plans (descriptors and
/// layouts, made once per shape, at most <see cref="MaxPlans"/>), all freed together. Subclasses say what a plan is.
/// </summary>
internal abstract unsafe class CublasLtSession<TKey, TPlan> : IDisposable
    where TKey : notnull
    where TPlan : IDisposable
{
    protected const int MaxPlans = 512;
    protected const long WorkspaceBytes = 32L << 20;

    protected CublasLtSession(CudaDevice device)
    {
        Device = device;
        nint handle;
        CublasLt.Check(CublasLt.cublasLtCreate(&handle), nameof(CublasLt.cublasLtCreate));
        Handle = new CublasLtHandle(handle);
        try
        {
            Workspace = device.Alloc(WorkspaceBytes);
        }
        catch
        {
            Handle.Dispose();
            throw;
        }
    }

    protected CudaDevice Device { get; }

    protected CublasLtHandle Handle { get; }

    protected ulong Workspace { get; }

    protected Dictionary<TKey, TPlan> Plans { get; } = new();

    /// <summary>Guards <see cref="Plans"/> (and whatever else a subclass caches per shape).</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Frees every plan; the caller holds <see cref="Gate"/>.</summary>
    protected void ClearPlans()
    {
        foreach (var plan in Plans.Values)
        {
            plan.Dispose();
        }

        Plans.Clear();
    }

    public void Dispose()
    {
        lock (Gate)
        {
            ClearPlans();
        }

        Device.Free(Workspace);
        Handle.Dispose();
    }
}
