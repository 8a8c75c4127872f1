namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    private const int GemmTile = 16;

    /// <summary>How the last fp32 or bf16 GEMM ran: "cublasLt", or "own kernel: " and why cuBLASLt was not used.</summary>
    public string LastMatMulPath { get; private set; } = "none yet";

    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = x.Rows, inner = x.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(MatMul) + " weight");
        RequireShape(output, tokens, outputs, nameof(MatMul) + " output");
        RequireType(x, TensorType.Float32, nameof(MatMul) + " x");
        bool bf16 = weight.Type == TensorType.BFloat16;
        if (!bf16)
        {
            RequireType(weight, TensorType.Float32, nameof(MatMul) + " weight");
        }

        RequireType(output, TensorType.Float32, nameof(MatMul) + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, nameof(MatMul) + " bias");
            RequireType(bias, TensorType.Float32, nameof(MatMul) + " bias");
        }

        ulong input = Own(x, nameof(MatMul)).Pointer, w = Own(weight, nameof(MatMul)).Pointer, y = Own(output, nameof(MatMul)).Pointer;
        if (tokens == 0 || outputs == 0)
        {
            return;
        }

        if (bf16)
        {
            MatMulBf16(tokens, outputs, inner, input, w, y);
        }
        else
        {
            Gemm(GemmOperands.Float32, tokens, outputs, inner, input, w, y, "gemm_f32_nt", path => LastMatMulPath = path);
        }

        // The fp32 bias after the GEMM, as for fp32 weights, rather than cuBLASLt's BIAS epilogue: one path for both.
        if (bias is not null)
        {
            ulong b = Own(bias, nameof(MatMul)).Pointer;
            void** arguments = stackalloc void*[] { &y, &b, &tokens, &outputs };
            Launch("add_bias", GridFor((long)tokens * outputs), 1, RowThreads, 0, arguments);
        }
    }

    /// <summary>
    /// x rounded to bf16 into a stream-ordered scratch copy (the input a bf16 linear sees), then the bf16 × bf16 GEMM
    /// with fp32 sums into the fp32 output.
    /// </summary>
    private void MatMulBf16(int tokens, int outputs, int inner, ulong input, ulong w, ulong y)
    {
        long count = (long)tokens * inner;
        ulong rounded = Alloc(count * sizeof(ushort));
        try
        {
            if (count > 0)
            {
                void** arguments = stackalloc void*[] { &input, &rounded, &count };
                Launch("float_to_bfloat16", GridFor(count), 1, RowThreads, 0, arguments);
            }

            Gemm(GemmOperands.BFloat16, tokens, outputs, inner, rounded, w, y, "gemm_bf16_nt", path => LastMatMulPath = path);
        }
        finally
        {
            // Stream-ordered: freed after the GEMM that reads it.
            Free(rounded);
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
