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

    /// <summary>A float64 matmul descriptor (CUBLAS_COMPUTE_64F, float64 scale): the Gram and GPTQ's products.</summary>
    protected static MatmulDescHandle CreateFp64Desc() => CreateDesc(CublasLt.Compute64F, CublasLt.R64F);

    /// <summary>A column-major float64 matrix layout.</summary>
    protected static MatrixLayoutHandle CreateFp64Layout(int rows, int columns, int leadingDimension) =>
        CreateLayout(CublasLt.R64F, rows, columns, leadingDimension);

    /// <summary>A matmul descriptor of a compute type (cublasComputeType_t) and a scale type (cudaDataType_t).</summary>
    protected static MatmulDescHandle CreateDesc(int compute, int scale)
    {
        nint desc;
        CublasLt.Check(CublasLt.cublasLtMatmulDescCreate(&desc, compute, scale), nameof(CublasLt.cublasLtMatmulDescCreate));
        return new MatmulDescHandle(desc);
    }

    /// <summary>A matrix layout of one cudaDataType_t, column-major unless <paramref name="rowMajor"/>.</summary>
    protected static MatrixLayoutHandle CreateLayout(int type, int rows, int columns, int leadingDimension, bool rowMajor = false)
    {
        nint layout;
        CublasLt.Check(CublasLt.cublasLtMatrixLayoutCreate(&layout, type, (ulong)rows, (ulong)columns, leadingDimension),
            nameof(CublasLt.cublasLtMatrixLayoutCreate));
        var handle = new MatrixLayoutHandle(layout);
        if (rowMajor)
        {
            int order = CublasLt.OrderRow;
            CublasLt.Check(CublasLt.cublasLtMatrixLayoutSetAttribute(layout, CublasLt.LayoutOrder, &order, sizeof(int)),
                nameof(CublasLt.cublasLtMatrixLayoutSetAttribute) + "(ORDER)");
        }

        return handle;
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

    /// <summary>
    /// cuBLASLt's first-choice algorithm for the product D = C = op(A)·op(B) that <paramref name="desc"/> describes, or false
    /// with the refusal (naming <paramref name="what"/> and cuBLASLt's status) when it offers none.
    /// </summary>
    protected static bool TryFirstChoice(nint handle, MatmulDescHandle desc, MatrixLayoutHandle a, MatrixLayoutHandle b, MatrixLayoutHandle c,
        nint preference, string what, out CublasLt.Algorithm algorithm, out string? refusal)
    {
        CublasLt.HeuristicResult best;
        int found = 0;
        int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, desc.DangerousGetHandle(), a.DangerousGetHandle(),
            b.DangerousGetHandle(), c.DangerousGetHandle(), c.DangerousGetHandle(), preference, 1, &best, &found);
        if (status != 0 || found == 0)
        {
            algorithm = default;
            refusal = $"cublasLtMatmulAlgoGetHeuristic offered no algorithm for {what}" + (status != 0 ? $": {CublasLt.StatusName(status)}" : "");
            return false;
        }

        algorithm = best.Algo;
        refusal = null;
        return true;
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
