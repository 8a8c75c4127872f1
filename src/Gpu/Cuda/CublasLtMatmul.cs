using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// GEMMs of the form row-major <c>y[T, N] = x[T, K] · w[N, K]ᵀ</c> through cuBLASLt, which is column-major: the same
/// bytes read column-major are <c>yᵀ (N×T) = op(A) · B</c> with A = w as a K×N matrix (opA = T) and B = x as a K×T
/// matrix (opB = N), the 'TN' form its int8 tensor-core (IMMA) kernels require. A plan (descriptors, layouts and the
/// heuristic's algorithm) is made once per shape.
/// </summary>
internal sealed unsafe class CublasLtMatmul : IDisposable
{
    private const int MaxPlans = 512;
    private const long WorkspaceBytes = 32L << 20;

    private readonly CudaDevice _device;
    private readonly CublasLtHandle _handle;
    private readonly ulong _workspace;
    private readonly Dictionary<(bool Int8, int Tokens, int Outputs, int Inner), Plan> _plans = new();
    private readonly Lock _gate = new();

    public CublasLtMatmul(CudaDevice device)
    {
        _device = device;
        nint handle;
        CublasLt.Check(CublasLt.cublasLtCreate(&handle), nameof(CublasLt.cublasLtCreate));
        _handle = new CublasLtHandle(handle);
        _workspace = device.Alloc(WorkspaceBytes);
    }

    /// <summary>
    /// Queues the GEMM; false with the reason when cuBLASLt offers no algorithm for this shape, so the caller runs its
    /// own kernel. Int8 is int8 × int8 → int32 (CUBLAS_COMPUTE_32I); float is fp32 (CUBLAS_COMPUTE_32F, no TF32).
    /// </summary>
    public bool TryRun(bool int8, int tokens, int outputs, int inner, ulong x, ulong w, ulong y, out string? refusal)
    {
        Plan plan;
        lock (_gate)
        {
            var key = (int8, tokens, outputs, inner);
            if (!_plans.TryGetValue(key, out plan!))
            {
                if (_plans.Count >= MaxPlans)
                {
                    Clear();
                }

                plan = Plan.Make(_handle.DangerousGetHandle(), int8, tokens, outputs, inner);
                _plans[key] = plan;
            }
        }

        refusal = plan.Refusal;
        if (refusal is not null)
        {
            return false;
        }

        _device.MakeCurrent();
        int oneI = 1, zeroI = 0;
        float oneF = 1f, zeroF = 0f;
        void* alpha = int8 ? &oneI : &oneF, beta = int8 ? &zeroI : &zeroF;
        var algorithm = plan.Algorithm;
        CublasLt.Check(CublasLt.cublasLtMatmul(_handle.DangerousGetHandle(), plan.Desc.DangerousGetHandle(), alpha,
            w, plan.A.DangerousGetHandle(), x, plan.B.DangerousGetHandle(), beta, y, plan.C.DangerousGetHandle(),
            y, plan.C.DangerousGetHandle(), &algorithm, _workspace, (nuint)WorkspaceBytes, _device.Stream),
            $"{nameof(CublasLt.cublasLtMatmul)}({(int8 ? "int8" : "fp32")}, T={tokens}, N={outputs}, K={inner})");
        return true;
    }

    private void Clear()
    {
        foreach (var plan in _plans.Values)
        {
            plan.Dispose();
        }

        _plans.Clear();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Clear();
        }

        _device.Free(_workspace);
        _handle.Dispose();
    }

    private sealed class Plan : IDisposable
    {
        public MatmulDescHandle Desc { get; private init; } = new();

        public MatrixLayoutHandle A { get; private init; } = new();

        public MatrixLayoutHandle B { get; private init; } = new();

        public MatrixLayoutHandle C { get; private init; } = new();

        public CublasLt.Algorithm Algorithm { get; private set; }

        public string? Refusal { get; private init; }

        public static Plan Make(nint handle, bool int8, int tokens, int outputs, int inner)
        {
            // cuBLASLt's documented IMMA conditions for the regular (non-COL32) order: TN, m and k multiples of 4,
            // leading dimensions multiples of 4 (here lda = ldb = K, ldc = N = m).
            if (int8 && (inner % 4 != 0 || outputs % 4 != 0))
            {
                return new Plan { Refusal = $"cuBLASLt int8 needs K and N multiples of 4; got K = {inner}, N = {outputs}" };
            }

            int element = int8 ? CublasLt.R8I : CublasLt.R32F, result = int8 ? CublasLt.R32I : CublasLt.R32F;
            var plan = new Plan
            {
                Desc = CreateDesc(int8 ? CublasLt.Compute32I : CublasLt.Compute32F, int8 ? CublasLt.R32I : CublasLt.R32F),
                A = CreateLayout(element, inner, outputs, inner),
                B = CreateLayout(element, inner, tokens, inner),
                C = CreateLayout(result, outputs, tokens, outputs),
            };
            try
            {
                int transA = CublasLt.OpT, transB = CublasLt.OpN;
                CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc.DangerousGetHandle(), CublasLt.DescTransA, &transA, sizeof(int)),
                    nameof(CublasLt.cublasLtMatmulDescSetAttribute) + "(TRANSA)");
                CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(plan.Desc.DangerousGetHandle(), CublasLt.DescTransB, &transB, sizeof(int)),
                    nameof(CublasLt.cublasLtMatmulDescSetAttribute) + "(TRANSB)");

                nint preference;
                CublasLt.Check(CublasLt.cublasLtMatmulPreferenceCreate(&preference), nameof(CublasLt.cublasLtMatmulPreferenceCreate));
                using var preferenceHandle = new MatmulPreferenceHandle(preference);
                ulong workspace = WorkspaceBytes;
                CublasLt.Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, &workspace, sizeof(ulong)),
                    nameof(CublasLt.cublasLtMatmulPreferenceSetAttribute));

                CublasLt.HeuristicResult best;
                int found = 0;
                int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, plan.Desc.DangerousGetHandle(), plan.A.DangerousGetHandle(),
                    plan.B.DangerousGetHandle(), plan.C.DangerousGetHandle(), plan.C.DangerousGetHandle(), preference, 1, &best, &found);
                if (status != 0 || found == 0)
                {
                    plan.Dispose();
                    return new Plan
                    {
                        Refusal = $"cublasLtMatmulAlgoGetHeuristic offered no algorithm for {(int8 ? "int8" : "fp32")} T={tokens}, N={outputs}, K={inner}"
                            + (status != 0 ? $": {CublasLt.StatusName(status)}" : ""),
                    };
                }

                plan.Algorithm = best.Algo;
                return plan;
            }
            catch
            {
                plan.Dispose();
                throw;
            }
        }

        private static MatmulDescHandle CreateDesc(int compute, int scale)
        {
            nint desc;
            CublasLt.Check(CublasLt.cublasLtMatmulDescCreate(&desc, compute, scale), nameof(CublasLt.cublasLtMatmulDescCreate));
            return new MatmulDescHandle(desc);
        }

        private static MatrixLayoutHandle CreateLayout(int type, int rows, int columns, int leadingDimension)
        {
            nint layout;
            CublasLt.Check(CublasLt.cublasLtMatrixLayoutCreate(&layout, type, (ulong)rows, (ulong)columns, leadingDimension),
                nameof(CublasLt.cublasLtMatrixLayoutCreate));
            return new MatrixLayoutHandle(layout);
        }

        public void Dispose()
        {
            Desc.Dispose();
            A.Dispose();
            B.Dispose();
            C.Dispose();
        }
    }
}
