using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// The calibration Gram matrix <c>gram[n, n] += xᵀ·x</c> in double through cuBLASLt (CUDA_R_64F, CUBLAS_COMPUTE_64F:
/// Hopper's FP64 tensor cores, IEEE double FMAs). x is already double, row-major <c>[T, n]</c>: read column-major it
/// is xᵀ, an n×T matrix X, and gram += X·Xᵀ is opA = N on X and opB = T on the same bytes. The result is symmetric,
/// so row- and column-major read the same. With <c>blocks</c> &gt; 1 only the upper triangle (row-major) is
/// computed, one GEMM per block of columns b: the column-major panel <c>C[bW.., bW..bW+W) += X[bW.., :]·X[bW..bW+W, :]ᵀ</c>
/// — the lower triangle column-major, the upper row-major — about (blocks + 1) / (2·blocks) of the full GEMM's work.
/// Plans (descriptors, layouts, the heuristic's algorithm) are made once per shape.
/// A bf16 x (<c>bf16</c>) runs the same panels on tensor cores (CUDA_R_16BF operands, CUBLAS_COMPUTE_32F: exact
/// products, fp32 sums) with β = 0 into a float32 <c>[n, n]</c> partial, which the caller adds to the double gram.
/// </summary>
internal sealed unsafe class CublasLtGram : CublasLtSession<(bool Bf16, int Tokens, int Rows, int Columns, int Leading), CublasLtGram.Plan>
{

    public CublasLtGram(CudaDevice device)
        : base(device)
    {
    }

    /// <summary>
    /// The plans for <paramref name="blocks"/> panels of an n-wide Gram matrix over <paramref name="tokens"/> rows of
    /// double (or, with <paramref name="bf16"/>, bf16) x; false with the reason when cuBLASLt offers no algorithm for one
    /// of them (then nothing may be queued).
    /// </summary>
    public bool TryPlan(bool bf16, int tokens, int n, int blocks, out Plan[] plans, out string? refusal)
    {
        int width = n / blocks;
        plans = new Plan[blocks];
        lock (Gate)
        {
            // Cleared before, never while, this call collects its plans.
            if (Plans.Count + blocks > MaxPlans)
            {
                ClearPlans();
            }

            for (int b = 0; b < blocks; b++)
            {
                var key = (bf16, tokens, n - b * width, width, n);
                if (!Plans.TryGetValue(key, out var plan))
                {
                    plan = Plan.Make(Handle.DangerousGetHandle(), bf16, tokens, n - b * width, width, n);
                    Plans[key] = plan;
                }

                if (plan.Refusal is { } reason)
                {
                    refusal = reason;
                    return false;
                }

                plans[b] = plan;
            }
        }

        refusal = null;
        return true;
    }

    /// <summary>
    /// Queues the panels' GEMMs: <paramref name="x"/> row-major [tokens, n], double with <paramref name="gram"/> double
    /// [n, n] accumulated into (β = 1); or, for bf16 plans, bf16 with <paramref name="gram"/> a float32 [n, n] partial
    /// overwritten (β = 0) where the panels reach (its upper triangle, row-major).
    /// </summary>
    public void Run(Plan[] plans, int tokens, int n, ulong x, ulong gram)
    {
        int width = n / plans.Length;
        bool bf16 = plans[0].Bf16;
        int xSize = bf16 ? sizeof(ushort) : sizeof(double), gramSize = bf16 ? sizeof(float) : sizeof(double);
        double oneD = 1.0;
        float oneF = 1f, zeroF = 0f;
        void* alpha = bf16 ? &oneF : &oneD, beta = bf16 ? &zeroF : &oneD;
        Device.MakeCurrent();
        for (int b = 0; b < plans.Length; b++)
        {
            long start = (long)b * width;
            ulong panel = x + (ulong)(start * xSize);
            ulong target = gram + (ulong)((start * n + start) * gramSize);
            var plan = plans[b];
            var algorithm = plan.Algorithm;
            CublasLt.Check(CublasLt.cublasLtMatmul(Handle.DangerousGetHandle(), plan.Desc.DangerousGetHandle(), alpha,
                panel, plan.A.DangerousGetHandle(), panel, plan.B.DangerousGetHandle(), beta, target, plan.C.DangerousGetHandle(),
                target, plan.C.DangerousGetHandle(), &algorithm, Workspace, (nuint)WorkspaceBytes, Device.Stream),
                $"{nameof(CublasLt.cublasLtMatmul)}({(bf16 ? "bf16" : "fp64")} Gram, T={tokens}, n={n}, panel {b} of {plans.Length})");
        }
    }

    internal sealed class Plan : IDisposable
    {
        public MatmulDescHandle Desc { get; private init; } = new();

        public MatrixLayoutHandle A { get; private init; } = new();

        public MatrixLayoutHandle B { get; private init; } = new();

        public MatrixLayoutHandle C { get; private init; } = new();

        public CublasLt.Algorithm Algorithm { get; private set; }

        public string? Refusal { get; private init; }

        public bool Bf16 { get; private init; }

        /// <summary>C (rows × columns, column-major, leading dimension ld) += A·Bᵀ, A rows × T and B columns × T, both ld.</summary>
        public static Plan Make(nint handle, bool bf16, int tokens, int rows, int columns, int leading)
        {
            var plan = bf16
                ? new Plan
                {
                    Bf16 = true,
                    Desc = CreateDesc(CublasLt.Compute32F, CublasLt.R32F),
                    A = CreateLayout(CublasLt.R16BF, rows, tokens, leading),
                    B = CreateLayout(CublasLt.R16BF, columns, tokens, leading),
                    C = CreateLayout(CublasLt.R32F, rows, columns, leading),
                }
                : new Plan
                {
                    Desc = CreateFp64Desc(),
                    A = CreateFp64Layout(rows, tokens, leading),
                    B = CreateFp64Layout(columns, tokens, leading),
                    C = CreateFp64Layout(rows, columns, leading),
                };
            try
            {
                SetTransposes(plan.Desc, CublasLt.OpN, CublasLt.OpT);
                using var preferenceHandle = CreatePreference();
                nint preference = preferenceHandle.DangerousGetHandle();

                if (!TryFirstChoice(handle, plan.Desc, plan.A, plan.B, plan.C, preference,
                        $"the {(bf16 ? "bf16" : "fp64")} Gram panel T={tokens}, {rows}×{columns}, ld {leading}",
                        out var algorithm, out string? refusal))
                {
                    plan.Dispose();
                    return new Plan { Refusal = refusal };
                }

                plan.Algorithm = algorithm;
                return plan;
            }
            catch
            {
                plan.Dispose();
                throw;
            }
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
