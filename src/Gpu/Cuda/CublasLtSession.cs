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

    /// <summary>Sets a matmul descriptor's operations on A and B (<see cref="CublasLt.OpN"/> or <see cref="CublasLt.OpT"/>).</summary>
    protected static void SetTransposes(MatmulDescHandle desc, int transA, int transB)
    {
        CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(desc.DangerousGetHandle(), CublasLt.DescTransA, &transA, sizeof(int)),
            nameof(CublasLt.cublasLtMatmulDescSetAttribute) + "(TRANSA)");
        CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(desc.DangerousGetHandle(), CublasLt.DescTransB, &transB, sizeof(int)),
            nameof(CublasLt.cublasLtMatmulDescSetAttribute) + "(TRANSB)");
    }

    /// <summary>A heuristic preference that allows algorithms up to the session's workspace.</summary>
    protected static MatmulPreferenceHandle CreatePreference()
    {
        nint preference;
        CublasLt.Check(CublasLt.cublasLtMatmulPreferenceCreate(&preference), nameof(CublasLt.cublasLtMatmulPreferenceCreate));
        var handle = new MatmulPreferenceHandle(preference);
        try
        {
            ulong workspace = WorkspaceBytes;
            CublasLt.Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, &workspace, sizeof(ulong)),
                nameof(CublasLt.cublasLtMatmulPreferenceSetAttribute));
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
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
