namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    private const int GemmTile = 16;

    /// <summary>How the last fp32 or bf16 GEMM ran: "cublasLt", or "own kernel: " and why cuBLASLt was not used.</summary>
    public string LastMatMulPath { get; private set; } = "none yet";

    /// <summary>
    /// x and the output are Float32 or BFloat16, each its own; the weight Float32 or BFloat16. The GEMM reads x in the
    /// weight's type: a bf16 weight multiplies bf16 x (a Float32 x rounded to bf16 into scratch first, as a bf16 model's
    /// linear sees it; a bf16 x as it is), a Float32 weight multiplies Float32 x (a bf16 x widened into scratch, exact).
    /// A bf16 output of bf16 operands without a bias is written by the GEMM itself (cuBLASLt's D type, its fp32
    /// accumulator rounded to nearest at the store); otherwise the GEMM writes fp32 (into scratch for a bf16 output),
    /// the bias is added in float32, and a bf16 output receives that sum rounded once.
    /// </summary>
    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = x.Rows, inner = x.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(MatMul) + " weight");
        RequireShape(output, tokens, outputs, nameof(MatMul) + " output");
        RequireFloatInput(x, nameof(MatMul));
        RequireActivation(weight, nameof(MatMul) + " weight"); // full-precision weights take the same two types
        RequireActivation(output, nameof(MatMul) + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, nameof(MatMul) + " bias");
            RequireType(bias, TensorType.Float32, nameof(MatMul) + " bias");
        }

        ulong input = Own(x, nameof(MatMul)).Pointer, w = Own(weight, nameof(MatMul)).Pointer, y = Own(output, nameof(MatMul)).Pointer;
        ulong b = bias is null ? 0 : Own(bias, nameof(MatMul)).Pointer;
        if (tokens == 0 || outputs == 0)
        {
            return;
        }

        bool bf16Weight = weight.Type == TensorType.BFloat16, bf16Output = output.Type == TensorType.BFloat16;
        bool direct = !bf16Output || (bf16Weight && bias is null);
        ulong converted = 0, sums = 0;
        try
        {
            // x in the weight's type: a stream-ordered scratch copy when it is of the other one.
            ulong operand = input;
            if ((x.Type == TensorType.BFloat16) != bf16Weight)
            {
                long count = (long)tokens * inner;
                converted = Alloc(count * (bf16Weight ? sizeof(ushort) : sizeof(float)));
                operand = converted;
                if (count > 0)
                {
                    void** convertArguments = stackalloc void*[] { &input, &converted, &count };
                    Launch(bf16Weight ? "float_to_bfloat16" : "bfloat16_to_float", GridFor(count), 1, RowThreads, 0, convertArguments);
                }
            }

            // The GEMM's own output: the output itself, or fp32 scratch that a bf16 output is narrowed from.
            ulong target = y;
            if (!direct)
            {
                sums = Alloc((long)tokens * outputs * sizeof(float));
                target = sums;
            }

            var (operands, fallback) = (bf16Weight, direct && bf16Output) switch
            {
                (false, _) => (GemmOperands.Float32, "gemm_f32_nt"),
                (true, false) => (GemmOperands.BFloat16, "gemm_bf16_nt"),
                (true, true) => (GemmOperands.BFloat16ToBFloat16, "gemm_bf16_nt_bf16"),
            };
            Gemm(operands, tokens, outputs, inner, operand, w, target, fallback, path => LastMatMulPath = path);

            if (!direct)
            {
                // sums (+ bias) rounded once into the bf16 output.
                void** narrowArguments = stackalloc void*[] { &sums, &b, &y, &tokens, &outputs };
                Launch("bias_to_bf16", GridFor((long)tokens * outputs), 1, RowThreads, 0, narrowArguments);
            }
            else if (bias is not null)
            {
                // The fp32 bias after the GEMM, as for fp32 weights, rather than cuBLASLt's BIAS epilogue: one path for both.
                void** arguments = stackalloc void*[] { &y, &b, &tokens, &outputs };
                Launch("add_bias", GridFor((long)tokens * outputs), 1, RowThreads, 0, arguments);
            }
        }
        finally
        {
            // Stream-ordered: freed after the kernels that read them.
            Free(converted);
            Free(sums);
        }
    }

    /// <summary>cuBLASLt when it takes the shape, else this backend's tiled kernel; <paramref name="report"/> hears which.</summary>
    private void Gemm(GemmOperands operands, int tokens, int outputs, int inner, ulong x, ulong w, ulong y, string fallbackKernel, Action<string> report)
    {
        string? refusal = CublasLtUnavailable is { } missing ? $"cuBLASLt unavailable: {missing}"
            : operands == GemmOperands.Int8 && ForceOwnInt8Gemm ? "forced by a test"
            : null;
        if (refusal is null && inner == 0)
        {
            refusal = "K = 0";
        }

        Profile?.Begin(Stream);
        if (refusal is null && _cublasLt!.TryRun(operands, tokens, outputs, inner, x, w, y, out refusal))
        {
            Profile?.End($"cublasLt {operands} gemm {tokens}×{outputs}×{inner}", Stream);
            report("cublasLt");
            return;
        }

        Profile?.End("cublasLt refused", Stream);

        report("own kernel: " + refusal);
        void** arguments = stackalloc void*[] { &x, &w, &y, &tokens, &outputs, &inner };
        Launch(fallbackKernel, (uint)((outputs + GemmTile - 1) / GemmTile), (uint)((tokens + GemmTile - 1) / GemmTile), GemmTile, GemmTile, 0, arguments);
    }
}
