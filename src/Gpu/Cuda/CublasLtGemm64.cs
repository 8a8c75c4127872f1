using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// A general fp64 product through cuBLASLt (CUDA_R_64F, CUBLAS_COMPUTE_64F), column-major as cuBLASLt sees it:
/// <c>C[m, cols] = α·op(A)·op(B) + β·C</c> with leading dimensions, so GPTQ's products read and write sub-blocks of
/// existing tensors in place (C is also D). Pointers into a tensor need not be 256-byte aligned: each plan asks the
/// heuristic only for algorithms that accept the alignment the operands have. Plans are made once per shape.
/// </summary>
internal sealed unsafe class CublasLtGemm64 : CublasLtSession<CublasLtGemm64.Shape, CublasLtGemm64.Plan>
{
    public CublasLtGemm64(CudaDevice device)
        : base(device)
    {
    }

    /// <summary>Everything a plan depends on: operations, sizes, leading dimensions and the operands' alignments.</summary>
    internal readonly record struct Shape(bool TransA, bool TransB, int M, int Columns, int K, int Lda, int Ldb, int Ldc,
        uint AlignA, uint AlignB, uint AlignC);

    /// <summary>The largest power of two up to 256 that divides <paramref name="pointer"/>.</summary>
    public static uint Alignment(ulong pointer) => (uint)Math.Min(256UL, pointer & (~pointer + 1));

    /// <summary>The plan for <paramref name="shape"/>; false with the reason when cuBLASLt offers no algorithm.</summary>
    public bool TryPlan(Shape shape, out Plan? plan, out string? refusal)
    {
        lock (Gate)
        {
            if (!Plans.TryGetValue(shape, out plan))
            {
                if (Plans.Count >= MaxPlans)
                {
                    ClearPlans();
                }

                plan = Plan.Make(Handle.DangerousGetHandle(), shape);
                Plans[shape] = plan;
            }

            refusal = plan.Refusal;
            return refusal is null;
        }
    }

    public void Run(Plan plan, double alpha, ulong a, ulong b, double beta, ulong c, string what)
    {
        Device.MakeCurrent();
        var algorithm = plan.Algorithm;
        CublasLt.Check(CublasLt.cublasLtMatmul(Handle.DangerousGetHandle(), plan.Desc.DangerousGetHandle(), &alpha,
            a, plan.A.DangerousGetHandle(), b, plan.B.DangerousGetHandle(), &beta, c, plan.C.DangerousGetHandle(),
            c, plan.C.DangerousGetHandle(), &algorithm, Workspace, (nuint)WorkspaceBytes, Device.Stream),
            $"{nameof(CublasLt.cublasLtMatmul)}(fp64 {what})");
    }

    internal sealed class Plan : IDisposable
    {
        public MatmulDescHandle Desc { get; private init; } = new();

        public MatrixLayoutHandle A { get; private init; } = new();

        public MatrixLayoutHandle B { get; private init; } = new();

        public MatrixLayoutHandle C { get; private init; } = new();

        public CublasLt.Algorithm Algorithm { get; private set; }

        public string? Refusal { get; private init; }

        public static Plan Make(nint handle, Shape s)
        {
            var plan = new Plan
            {
                Desc = CreateFp64Desc(),
                A = s.TransA ? CreateFp64Layout(s.K, s.M, s.Lda) : CreateFp64Layout(s.M, s.K, s.Lda),
                B = s.TransB ? CreateFp64Layout(s.Columns, s.K, s.Ldb) : CreateFp64Layout(s.K, s.Columns, s.Ldb),
                C = CreateFp64Layout(s.M, s.Columns, s.Ldc),
            };
            try
            {
                SetTransposes(plan.Desc, s.TransA ? CublasLt.OpT : CublasLt.OpN, s.TransB ? CublasLt.OpT : CublasLt.OpN);
                using var preferenceHandle = CreatePreference();
                nint preference = preferenceHandle.DangerousGetHandle();
                SetAlignment(preference, CublasLt.PreferenceMinAlignmentA, s.AlignA);
                SetAlignment(preference, CublasLt.PreferenceMinAlignmentB, s.AlignB);
                SetAlignment(preference, CublasLt.PreferenceMinAlignmentC, s.AlignC);
                SetAlignment(preference, CublasLt.PreferenceMinAlignmentD, s.AlignC);

                if (!TryFirstChoice(handle, plan.Desc, plan.A, plan.B, plan.C, preference, $"fp64 {s}", out var algorithm, out string? refusal))
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

        private static void SetAlignment(nint preference, int attribute, uint bytes) =>
            CublasLt.Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, attribute, &bytes, sizeof(uint)),
                $"{nameof(CublasLt.cublasLtMatmulPreferenceSetAttribute)}(MIN_ALIGNMENT {attribute})");

        public void Dispose()
        {
            Desc.Dispose();
            A.Dispose();
            B.Dispose();
            C.Dispose();
        }
    }
}
