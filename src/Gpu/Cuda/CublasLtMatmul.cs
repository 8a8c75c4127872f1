using System.Numerics;
using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// GEMMs of the form row-major <c>y[T, N] = x[T, K] · w[N, K]ᵀ</c> through cuBLASLt, which is column-major. Two ways
/// to state the same bytes ("variants"):
/// <list type="bullet">
/// <item>TN: <c>yᵀ (N×T, column-major) = op(A) · B</c> with A = w as a K×N matrix (opA = T) and B = x as a K×T matrix
/// (opB = N), the 'TN' form cuBLASLt's int8 tensor-core (IMMA) kernels require;</item>
/// <item>TN, row-major D (int8 only): <c>y (T×N, CUBLASLT_ORDER_ROW) = op(A) · B</c> with A = x as K×T (opA = T) and
/// B = w as K×N (opB = N): the roles of x and w swapped, which changes the tiles the heuristic offers at small T.</item>
/// </list>
/// A plan (descriptors, layouts, the heuristic's candidates) is made once per operand type and shape. Float GEMMs
/// (fp32, bf16) take the heuristic's first algorithm. Int8 GEMMs ask for up to <see cref="CandidatesPerVariant"/> per
/// variant and, on the first call of a shape, time each on the call's own buffers with CUDA events and keep the fastest
/// with the workspace it needs; the winner is remembered per (N, K, T rounded up to a power of two), so a new token
/// count in a tuned range only re-checks the winner (cublasLtMatmulAlgoCheck) instead of timing again. Every candidate computes the same exact int32 sums,
/// so the choice changes speed, never results. The first call of a shape waits for the stream (the timing).
/// </summary>
internal sealed unsafe class CublasLtMatmul : CublasLtSession<(GemmOperands Operands, int Tokens, int Outputs, int Inner), CublasLtMatmul.Plan>
{
    private const int CandidatesPerVariant = 16;
    private const int TimedRuns = 8;
    private const int TuningRounds = 2;

    private readonly Dictionary<(int Outputs, int Inner, uint Bucket), (int Variant, CublasLt.Algorithm Algorithm, string Report)> _winners = new();

    public CublasLtMatmul(CudaDevice device)
        : base(device)
    {
    }

    /// <summary>How the last int8 GEMM's algorithm was chosen (variant, algorithm id, tile, split-K, its time).</summary>
    public string LastInt8Choice { get; private set; } = "none yet";

    /// <summary>
    /// Queues the GEMM; false with the reason when cuBLASLt offers no algorithm for this shape, so the caller runs its
    /// own kernel. Int8 is int8 × int8 → int32 (CUBLAS_COMPUTE_32I); float is fp32 (CUBLAS_COMPUTE_32F, no TF32); bf16 is
    /// bf16 × bf16 → fp32 (CUBLAS_COMPUTE_32F on tensor cores: exact products, fp32 sums), and bf16 → bf16 the same
    /// with D in bf16: the epilogue rounds the fp32 accumulator to nearest as it stores. Where cuBLASLt splits K, its
    /// reduction scheme may add the partial results in the output type, so a bf16 D is within bf16 rounding of the
    /// fp32 result, not always its one rounding (as in PyTorch's bf16 linear, which runs the same GEMM).
    /// </summary>
    public bool TryRun(GemmOperands operands, int tokens, int outputs, int inner, ulong x, ulong w, ulong y, out string? refusal)
    {
        Plan plan;
        lock (Gate)
        {
            var key = (operands, tokens, outputs, inner);
            if (!Plans.TryGetValue(key, out plan!))
            {
                if (Plans.Count >= MaxPlans)
                {
                    ClearPlans();
                }

                plan = Plan.Make(Handle.DangerousGetHandle(), operands, tokens, outputs, inner);
                Plans[key] = plan;
            }

            if (plan.Refusal is null && !plan.Chosen)
            {
                Choose(plan, x, w, y);
            }

            if (plan.Int8)
            {
                LastInt8Choice = plan.Report;
            }
        }

        refusal = plan.Refusal;
        if (refusal is null)
        {
            Device.MakeCurrent();
            CublasLt.Check(Launch(plan, plan.Variant, plan.Algorithm, plan.WorkspaceNeeded, x, w, y),
                $"{nameof(CublasLt.cublasLtMatmul)}({Name(operands)}, T={tokens}, N={outputs}, K={inner})");
        }

        return refusal is null;
    }

    private int Launch(Plan plan, int variant, CublasLt.Algorithm algorithm, ulong workspaceBytes, ulong x, ulong w, ulong y)
    {
        int oneI = 1, zeroI = 0;
        float oneF = 1f, zeroF = 0f;
        void* alpha = plan.Int8 ? &oneI : &oneF, beta = plan.Int8 ? &zeroI : &zeroF;
        var layouts = plan.Variants[variant]!;
        (ulong a, ulong b) = variant == 0 ? (w, x) : (x, w);
        return CublasLt.cublasLtMatmul(Handle.DangerousGetHandle(), layouts.Desc.DangerousGetHandle(), alpha,
            a, layouts.A.DangerousGetHandle(), b, layouts.B.DangerousGetHandle(), beta, y, layouts.C.DangerousGetHandle(),
            y, layouts.C.DangerousGetHandle(), &algorithm, workspaceBytes == 0 ? 0 : Workspace, (nuint)workspaceBytes, Device.Stream);
    }

    /// <summary>Float: the heuristic's first. Int8: a remembered winner that still fits, else the fastest candidate, timed.</summary>
    private void Choose(Plan plan, ulong x, ulong w, ulong y)
    {
        var first = plan.Candidates[0];
        if (!plan.Int8 || plan.Candidates.Count == 1)
        {
            plan.Pick(first.Variant, first.Result.Algo, first.Result.WorkspaceSize, "heuristic's first: " + Describe(first.Variant, first.Result.Algo));
            return;
        }

        var bucket = (plan.Outputs, plan.Inner, BitOperations.RoundUpToPowerOf2((uint)plan.Tokens));
        if (_winners.TryGetValue(bucket, out var winner) && plan.Variants[winner.Variant] is { } layouts)
        {
            var algorithm = winner.Algorithm;
            CublasLt.HeuristicResult check;
            if (CublasLt.cublasLtMatmulAlgoCheck(Handle.DangerousGetHandle(), layouts.Desc.DangerousGetHandle(), layouts.A.DangerousGetHandle(),
                    layouts.B.DangerousGetHandle(), layouts.C.DangerousGetHandle(), layouts.C.DangerousGetHandle(), &algorithm, &check) == 0
                && check.State == 0 && (long)check.WorkspaceSize <= WorkspaceBytes)
            {
                plan.Pick(winner.Variant, algorithm, check.WorkspaceSize, $"winner of T ≤ {bucket.Item3}: {winner.Report}");
                return;
            }
        }

        Device.MakeCurrent();
        using var start = CudaDevice.CreateEvent();
        using var end = CudaDevice.CreateEvent();
        // Two rounds over the candidates, each candidate's best round counts: a clock still ramping up during the
        // first round (the first GEMM of a process) then does not decide the choice.
        var times = new float[plan.Candidates.Count];
        Array.Fill(times, float.PositiveInfinity);
        var launches = new bool[plan.Candidates.Count];
        int lastFailure = 0;
        for (int round = 0; round < TuningRounds; round++)
        {
            for (int i = 0; i < plan.Candidates.Count; i++)
            {
                var (variant, result) = plan.Candidates[i];
                // One untimed run: it also tells whether this algorithm launches at all for these buffers.
                if (round > 0 && !launches[i])
                {
                    continue;
                }

                int status = Launch(plan, variant, result.Algo, result.WorkspaceSize, x, w, y);
                if (status != 0)
                {
                    lastFailure = status;
                    continue;
                }

                launches[i] = true;
                Driver.Check(Driver.cuEventRecord(start.DangerousGetHandle(), Device.Stream), nameof(Driver.cuEventRecord));
                for (int r = 0; r < TimedRuns; r++)
                {
                    CublasLt.Check(Launch(plan, variant, result.Algo, result.WorkspaceSize, x, w, y), nameof(CublasLt.cublasLtMatmul) + " (tuning)");
                }

                Driver.Check(Driver.cuEventRecord(end.DangerousGetHandle(), Device.Stream), nameof(Driver.cuEventRecord));
                Driver.Check(Driver.cuEventSynchronize(end.DangerousGetHandle()), nameof(Driver.cuEventSynchronize));
                float ms;
                Driver.Check(Driver.cuEventElapsedTime(&ms, start.DangerousGetHandle(), end.DangerousGetHandle()), nameof(Driver.cuEventElapsedTime));
                times[i] = Math.Min(times[i], ms / TimedRuns);
            }
        }

        int best = -1, failed = launches.Count(launched => !launched);
        float bestMs = float.PositiveInfinity;
        for (int i = 0; i < times.Length; i++)
        {
            if (times[i] < bestMs)
            {
                (bestMs, best) = (times[i], i);
            }
        }

        if (best < 0)
        {
            plan.Refuse($"cublasLtMatmul failed for all {plan.Candidates.Count} algorithms the heuristic offered for int8 T={plan.Tokens}, "
                + $"N={plan.Outputs}, K={plan.Inner}: {CublasLt.StatusName(lastFailure)}");
            return;
        }

        var chosen = plan.Candidates[best];
        string report = $"fastest of {plan.Candidates.Count - failed} timed: {Describe(chosen.Variant, chosen.Result.Algo)}, "
            + $"{bestMs * 1000:F1} µs at T={plan.Tokens} (heuristic's first {(best == 0 ? "won" : "lost")})";
        plan.Pick(chosen.Variant, chosen.Result.Algo, chosen.Result.WorkspaceSize, report);
        _winners[bucket] = (chosen.Variant, chosen.Result.Algo, report);
    }

    private static string Name(GemmOperands operands) => operands switch
    {
        GemmOperands.Int8 => "int8",
        GemmOperands.BFloat16 => "bf16",
        GemmOperands.BFloat16ToBFloat16 => "bf16 → bf16",
        _ => "fp32",
    };

    private static string Describe(int variant, CublasLt.Algorithm algorithm)
    {
        return $"{(variant == 0 ? "TN" : "TN row-major D")}, algo {Config(algorithm, CublasLt.AlgoConfigId)}, tile {Config(algorithm, CublasLt.AlgoConfigTileId)}, "
            + $"stages {Config(algorithm, CublasLt.AlgoConfigStagesId)}, split-K {Config(algorithm, CublasLt.AlgoConfigSplitKNum)}";
    }

    private static int Config(CublasLt.Algorithm algorithm, int attribute)
    {
        int value = 0;
        nuint written;
        return CublasLt.cublasLtMatmulAlgoConfigGetAttribute(&algorithm, attribute, &value, sizeof(int), &written) == 0 ? value : -1;
    }

    internal sealed class Layouts : IDisposable
    {
        public MatmulDescHandle Desc { get; init; } = new();

        public MatrixLayoutHandle A { get; init; } = new();

        public MatrixLayoutHandle B { get; init; } = new();

        public MatrixLayoutHandle C { get; init; } = new();

        public void Dispose()
        {
            Desc.Dispose();
            A.Dispose();
            B.Dispose();
            C.Dispose();
        }
    }

    internal sealed class Plan : IDisposable
    {
        public GemmOperands Operands { get; private init; }

        public bool Int8 => Operands == GemmOperands.Int8;

        public int Tokens { get; private init; }

        public int Outputs { get; private init; }

        public int Inner { get; private init; }

        public Layouts?[] Variants { get; } = new Layouts?[2];

        public List<(int Variant, CublasLt.HeuristicResult Result)> Candidates { get; } = [];

        public bool Chosen { get; private set; }

        public int Variant { get; private set; }

        public CublasLt.Algorithm Algorithm { get; private set; }

        public ulong WorkspaceNeeded { get; private set; }

        public string Report { get; private set; } = "";

        public string? Refusal { get; private set; }

        public void Pick(int variant, CublasLt.Algorithm algorithm, nuint workspace, string report)
        {
            (Variant, Algorithm, WorkspaceNeeded, Report, Chosen) = (variant, algorithm, workspace, report, true);
        }

        public void Refuse(string reason)
        {
            Refusal = reason;
            Report = reason;
        }

        public static Plan Make(nint handle, GemmOperands operands, int tokens, int outputs, int inner)
        {
            bool int8 = operands == GemmOperands.Int8;
            var plan = new Plan { Operands = operands, Tokens = tokens, Outputs = outputs, Inner = inner };
            // cuBLASLt's documented IMMA conditions for the regular (non-COL32) order: TN, m and k multiples of 4,
            // leading dimensions multiples of 4 (here lda = ldb = K, ldc = N).
            if (int8 && (inner % 4 != 0 || outputs % 4 != 0))
            {
                plan.Refuse($"cuBLASLt int8 needs K and N multiples of 4; got K = {inner}, N = {outputs}");
                return plan;
            }

            try
            {
                int firstStatus = plan.AddVariant(handle, 0);
                if (int8)
                {
                    plan.AddVariant(handle, 1);
                }

                if (plan.Candidates.Count == 0)
                {
                    plan.Refuse($"cublasLtMatmulAlgoGetHeuristic offered no algorithm for {Name(operands)} T={tokens}, N={outputs}, K={inner}"
                        + (firstStatus != 0 ? $": {CublasLt.StatusName(firstStatus)}" : ""));
                }

                return plan;
            }
            catch
            {
                plan.Dispose();
                throw;
            }
        }

        /// <summary>Makes one variant's descriptors and adds the heuristic's algorithms for it; the heuristic's status.</summary>
        private int AddVariant(nint handle, int variant)
        {
            int element = Operands switch
            {
                GemmOperands.Int8 => CublasLt.R8I,
                GemmOperands.BFloat16 or GemmOperands.BFloat16ToBFloat16 => CublasLt.R16BF,
                _ => CublasLt.R32F,
            };
            // The scale type (alpha, beta) is the compute type's: int32 for int8, else fp32, also for a bf16 output.
            int scale = Int8 ? CublasLt.R32I : CublasLt.R32F;
            int result = Operands == GemmOperands.BFloat16ToBFloat16 ? CublasLt.R16BF : scale;
            var layouts = variant == 0
                ? new Layouts
                {
                    Desc = CreateDesc(Int8 ? CublasLt.Compute32I : CublasLt.Compute32F, scale),
                    A = CreateLayout(element, Inner, Outputs, Inner),
                    B = CreateLayout(element, Inner, Tokens, Inner),
                    C = CreateLayout(result, Outputs, Tokens, Outputs),
                }
                : new Layouts
                {
                    Desc = CreateDesc(Int8 ? CublasLt.Compute32I : CublasLt.Compute32F, scale),
                    A = CreateLayout(element, Inner, Tokens, Inner),
                    B = CreateLayout(element, Inner, Outputs, Inner),
                    C = CreateLayout(result, Tokens, Outputs, Outputs, rowMajor: true),
                };
            Variants[variant] = layouts;
            SetTransposes(layouts.Desc, CublasLt.OpT, CublasLt.OpN);
            using var preferenceHandle = CreatePreference();
            nint preference = preferenceHandle.DangerousGetHandle();

            int requested = Int8 ? CandidatesPerVariant : 1, found = 0;
            var results = stackalloc CublasLt.HeuristicResult[requested];
            int status = CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, layouts.Desc.DangerousGetHandle(), layouts.A.DangerousGetHandle(),
                layouts.B.DangerousGetHandle(), layouts.C.DangerousGetHandle(), layouts.C.DangerousGetHandle(), preference, requested, results, &found);
            for (int i = 0; status == 0 && i < found; i++)
            {
                if (results[i].State == 0 && (long)results[i].WorkspaceSize <= WorkspaceBytes)
                {
                    Candidates.Add((variant, results[i]));
                }
            }

            return status;
        }

        public void Dispose()
        {
            foreach (var layouts in Variants)
            {
                layouts?.Dispose();
            }
        }
    }
}
