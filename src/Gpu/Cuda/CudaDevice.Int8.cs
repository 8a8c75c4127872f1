namespace OrleansQuant.Gpu.Cuda;

// W8A8 per-token × per-channel int8 GEMM (Xiao et al. 2023, SmoothQuant, section 3 "per-token" / "per-channel").
public sealed unsafe partial class CudaDevice
{
    // Exactness bound, as on the CPU: |q·w| ≤ 127·127 per term keeps K ≤ 2¹⁶ sums inside int32.
    private const int MaxInt8Inner = 1 << 16;

    /// <summary>How the last int8 GEMM ran: "cublasLt", or "own kernel: " and why cuBLASLt refused.</summary>
    public string LastInt8GemmPath { get; private set; } = "none yet";

    /// <summary>Which cuBLASLt algorithm the last int8 GEMM ran and how it was chosen (timed, or a remembered winner).</summary>
    public string LastInt8GemmTuning => _cublasLt?.LastInt8Choice ?? "cuBLASLt not loaded";

    /// <summary>Tests set this to run the int8 GEMM on this backend's own kernel and compare it with cuBLASLt's.</summary>
    internal bool ForceOwnInt8Gemm { get; set; }

    public void QuantizePerToken(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales)
    {
        int tokens = x.Rows, width = x.Columns;
        RequirePerTokenQuantization(x, quantized, scales);
        ulong input = Own(x, nameof(QuantizePerToken)).Pointer, codes = Own(quantized, nameof(QuantizePerToken)).Pointer;
        ulong scale = Own(scales, nameof(QuantizePerToken)).Pointer;
        if (width % 4 == 0 && input % 16 == 0 && codes % 4 == 0)
        {
            // One block per row; about 4 float4 per thread once there are rows enough to fill the GPU, else 1 (more
            // threads per row, so few rows still keep many loads in flight). Multiples of 32, at most 1024.
            int width4 = width / 4, perThread = tokens >= 2 * MultiprocessorCount ? 4 : 1;
            uint threads = (uint)Math.Clamp((width4 + perThread - 1) / perThread + 31 & ~31, 32, 1024);
            void** vectorArguments = stackalloc void*[] { &input, &codes, &scale, &width4 };
            Launch("quantize_per_token_v4", (uint)tokens, 1, threads, 0, vectorArguments);
            return;
        }

        void** arguments = stackalloc void*[] { &input, &codes, &scale, &width };
        Launch("quantize_per_token", (uint)tokens, 1, RowThreads, 0, arguments);
    }

    public void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales,
        DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = quantized.Rows, outputs = weight.Rows;
        RequireW8A8Linear(quantized, tokenScales, weight, weightScales, bias, output);

        // Scratch for the int32 sums, not zeroed (Allocate would memset T × N × 4 bytes): the GEMM writes every element.
        using var sums = new CudaTensor(this, TensorType.Int32, tokens, outputs, Alloc((long)tokens * outputs * sizeof(int)));
        Int8Gemm(quantized, weight, sums);
        DequantizeInt8(sums, tokenScales, weightScales, bias, output);
    }

    /// <summary>The epilogue of <see cref="MatMulInt8"/> alone: output = sums × token scale × channel scale (+ bias).</summary>
    internal void DequantizeInt8(DeviceTensor sums, DeviceTensor tokenScales, DeviceTensor weightScales, DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = sums.Rows, outputs = sums.Columns;
        ulong s = Own(sums, nameof(MatMulInt8)).Pointer, ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        ulong ws = Own(weightScales, nameof(MatMulInt8)).Pointer, y = Own(output, nameof(MatMulInt8)).Pointer;
        ulong b = bias is null ? 0 : Own(bias, nameof(MatMulInt8)).Pointer;
        if (outputs % 4 == 0 && (s | ws | b | y) % 16 == 0)
        {
            int outputs4 = outputs / 4;
            void** vectorArguments = stackalloc void*[] { &s, &ts, &ws, &b, &y, &outputs4 };
            Launch("dequantize_int8_v4", (uint)tokens, (uint)((outputs4 + RowThreads - 1) / RowThreads), RowThreads, 0, vectorArguments);
            return;
        }

        void** arguments = stackalloc void*[] { &s, &ts, &ws, &b, &y, &tokens, &outputs };
        Launch("dequantize_int8", GridFor((long)tokens * outputs), 1, RowThreads, 0, arguments);
    }

    /// <summary>
    /// The exact int32 product <c>sums[T, N] = quantized[T, K] · weight[N, K]ᵀ</c> that <see cref="MatMulInt8"/>
    /// dequantizes; public so tests and benchmarks can check and time the GEMM alone.
    /// </summary>
    public void Int8Gemm(DeviceTensor quantized, DeviceTensor weight, DeviceTensor sums)
    {
        int tokens = quantized.Rows, inner = quantized.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(Int8Gemm) + " weight");
        RequireShape(sums, tokens, outputs, nameof(Int8Gemm) + " sums");
        RequireType(quantized, TensorType.Int8, nameof(Int8Gemm) + " quantized");
        RequireType(weight, TensorType.Int8, nameof(Int8Gemm) + " weight");
        RequireType(sums, TensorType.Int32, nameof(Int8Gemm) + " sums");
        if (inner > MaxInt8Inner)
        {
            throw new ArgumentException($"{nameof(Int8Gemm)}: inner dimension {inner} exceeds {MaxInt8Inner}, past which int32 sums could overflow");
        }

        ulong x = Own(quantized, nameof(Int8Gemm)).Pointer, w = Own(weight, nameof(Int8Gemm)).Pointer, y = Own(sums, nameof(Int8Gemm)).Pointer;
        if (tokens == 0 || outputs == 0)
        {
            return;
        }

        Gemm(GemmOperands.Int8, tokens, outputs, inner, x, w, y, "gemm_int8_nt", path => LastInt8GemmPath = path);
    }
}
