namespace OrleansQuant.Gpu.Cuda;

// W8A8 per-token × per-channel int8 GEMM (Xiao et al. 2023, SmoothQuant, section 3 "per-token" / "per-channel").
// Activations are Float32 or BFloat16 (IComputeDevice, "Activations"): QuantizePerToken reads either, and every
// path of MatMulInt8 writes either from its own epilogue (the kernels' "_bf16" twins round the float result once at
// the store), so a bf16 model's linears move half the output bytes and no conversion pass runs.
public sealed unsafe partial class CudaDevice
{
    // Exactness bound, as on the CPU: |q·w| ≤ 127·127 per term keeps K ≤ 2¹⁶ sums inside int32.
    private const int MaxInt8Inner = 1 << 16;

    /// <summary>
    /// How the last int8 GEMM ran: "cublasLt", "own kernel: " and why cuBLASLt refused, or (from <see cref="MatMulInt8"/>
    /// at few tokens) <see cref="Int8GemvPath"/> / <see cref="Int8GemvBytesPath"/>.
    /// </summary>
    public string LastInt8GemmPath { get; private set; } = "none yet";

    /// <summary>Which cuBLASLt algorithm the last int8 GEMM ran and how it was chosen (timed, or a remembered winner).</summary>
    public string LastInt8GemmTuning => _cublasLt?.LastInt8Choice ?? "cuBLASLt not loaded";

    /// <summary>Tests set this to run the int8 GEMM on this backend's own kernel and compare it with cuBLASLt's.</summary>
    internal bool ForceOwnInt8Gemm { get; set; }

    /// <summary>
    /// The most tokens <see cref="MatMulInt8"/> runs as the fused GEMV (int8_gemv.cu). Up to here the linear is bound by
    /// streaming the weights once: each 16-byte weight load feeds 4·T dp4a and T/2 activation loads from L1, which at
    /// T = 8 (32 dp4a, 4 L1 loads a load) still keeps pace with an SM's share of HBM bandwidth on Hopper; past it the
    /// integer pipe and L1 become the limit, while cuBLASLt's tensor cores pad T up to a whole tile anyway and cost about
    /// the same from 1 to 16 tokens. Reasoned, not yet measured: CudaInt8GemvTests prints both paths at T = 1 and 8.
    /// One kernel per token count, so the T × 2 sums stay in registers.
    /// </summary>
    public const int Int8GemvMaxTokens = 8;

    /// <summary>
    /// Whether <see cref="MatMulInt8"/> runs the fused GEMV at 1 to <see cref="Int8GemvMaxTokens"/> tokens (default);
    /// false keeps the cuBLASLt GEMM + dequantize path for every token count, to compare or time the two.
    /// </summary>
    public bool Int8Gemv { get; set; } = true;

    /// <summary><see cref="LastInt8GemmPath"/> after the fused GEMV ran with 16-byte loads.</summary>
    public const string Int8GemvPath = "int8 gemv";

    /// <summary><see cref="LastInt8GemmPath"/> after the fused GEMV ran with byte loads (K % 16 ≠ 0 or unaligned).</summary>
    public const string Int8GemvBytesPath = "int8 gemv (byte loads: K not a multiple of 16 or unaligned)";

    // int8_gemv.cu's GEMV_ROWS and GEMV_WARPS: a block of 4 warps covers 8 output channels.
    private const int GemvRowsPerWarp = 2, GemvWarpsPerBlock = 4;

    // Kernel names by token count (index T - 1), so the hot path builds no strings; the bf16-output twins end "_bf16".
    private static readonly string[] s_gemvVectorKernels = [.. Enumerable.Range(1, Int8GemvMaxTokens).Select(t => $"int8_gemv_v16_t{t}")];
    private static readonly string[] s_gemvByteKernels = [.. Enumerable.Range(1, Int8GemvMaxTokens).Select(t => $"int8_gemv_t{t}")];
    private static readonly string[] s_gemvVectorKernelsBf16 = [.. s_gemvVectorKernels.Select(name => name + "_bf16")];
    private static readonly string[] s_gemvByteKernelsBf16 = [.. s_gemvByteKernels.Select(name => name + "_bf16")];

    /// <summary>Threads per row of the vectorised per-token quantization instead of the device's pick; 0 (default) lets it pick. For tests and tuning.</summary>
    internal int QuantizeRowThreads { get; set; }


    public void QuantizePerToken(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales)
    {
        int tokens = x.Rows, width = x.Columns;
        RequirePerTokenQuantization(x, quantized, scales);
        ulong input = Own(x, nameof(QuantizePerToken)).Pointer, codes = Own(quantized, nameof(QuantizePerToken)).Pointer;
        ulong scale = Own(scales, nameof(QuantizePerToken)).Pointer;
        // A bf16 x is read by the twins ending "_bf16", widened exactly: the codes and scales of the widened x.
        bool bf16 = x.Type == TensorType.BFloat16;
        // Groups of 4 elements: a float4 (16 bytes) or 4 bf16 (8 bytes), so every row must start that aligned.
        if (width % 4 == 0 && input % (bf16 ? 8u : 16u) == 0 && codes % 4 == 0)
        {
            // One block per row; about 4 float4 per thread once there are rows enough to fill the GPU, else 1 (more
            // threads per row, so few rows still keep many loads in flight). Multiples of 32, at most 1024, and at most
            // 512 with rows enough: wide rows (14336) then hold 7 float4 a thread, 1.3-1.6x faster on an H200 than 896
            // threads (CudaQuantizeTimingTests). A warp a row (one round trip, a shuffle for the max, no barriers) was
            // tried and taken out: at 512 × 4096 it took 10.6 µs against 6.0 here; its 4 warps an SM keep too few loads
            // in flight.
            int width4 = width / 4, perThread = tokens >= 2 * MultiprocessorCount ? 4 : 1;
            uint threads = (uint)Math.Clamp((width4 + perThread - 1) / perThread + 31 & ~31, 32, perThread == 4 ? 512 : 1024);
            threads = QuantizeRowThreads > 0 ? (uint)QuantizeRowThreads : threads;
            void** vectorArguments = stackalloc void*[] { &input, &codes, &scale, &width4 };
            Launch(bf16 ? "quantize_per_token_v4_bf16" : "quantize_per_token_v4", (uint)tokens, 1, threads, 0, vectorArguments);
            return;
        }

        void** arguments = stackalloc void*[] { &input, &codes, &scale, &width };
        Launch(bf16 ? "quantize_per_token_bf16" : "quantize_per_token", (uint)tokens, 1, RowThreads, 0, arguments);
    }

    public void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales,
        DeviceTensor? bias, DeviceTensor output, bool accumulate = false) =>
        MatMulInt8(quantized, tokenScales, [new Int8Projection(weight, weightScales, bias, output, accumulate)]);

    public void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections)
    {
        int tokens = quantized.Rows, inner = quantized.Columns;
        foreach (var p in projections)
        {
            RequireW8A8Linear(quantized, tokenScales, p.Weight, p.WeightScales, p.Bias, p.Output);
        }

        RequireOneOutputType(projections, nameof(MatMulInt8));

        if (inner > MaxInt8Inner)
        {
            throw new ArgumentException($"{nameof(MatMulInt8)}: inner dimension {inner} exceeds {MaxInt8Inner}, past which int32 sums could overflow");
        }

        if (RunsGemv(tokens))
        {
            foreach (var p in projections)
            {
                MatMulInt8Gemv(quantized, tokenScales, p);
            }

            return;
        }

        if (RunsInt8Mma(quantized, projections))
        {
            MatMulInt8Mma(quantized, tokenScales, projections);
            return;
        }

        foreach (var p in projections)
        {
            // Scratch for the int32 sums, not zeroed (Allocate would memset T × N × 4 bytes): the GEMM writes every element.
            using var sums = new CudaTensor(this, TensorType.Int32, tokens, p.Weight.Rows, Alloc((long)tokens * p.Weight.Rows * sizeof(int)));
            Int8Gemm(quantized, p.Weight, sums);
            DequantizeInt8(sums, tokenScales, p.WeightScales, p.Bias, p.Output, p.Accumulate);
        }
    }

    private bool RunsGemv(int tokens) => Int8Gemv && tokens is >= 1 and <= Int8GemvMaxTokens;

    /// <summary>
    /// The outputs of one call are all Float32 or all BFloat16 (the contract's one type per call's activations): the own
    /// GEMM's epilogue is compiled for one output type, and serves every output of its launch.
    /// </summary>
    private static void RequireOneOutputType(ReadOnlySpan<Int8Projection> projections, string call)
    {
        for (int i = 1; i < projections.Length; i++)
        {
            if (projections[i].Output.Type != projections[0].Output.Type)
            {
                throw new ArgumentException($"{call}: the outputs of one call must share one type; output 0 is {projections[0].Output}, output {i} is {projections[i].Output}");
            }
        }
    }

    // Decode's W8A8 linear in one launch, with no int32 scratch: sums and epilogue in int8_gemv.cu, bit-identical to
    // Int8Gemm + DequantizeInt8.
    private void MatMulInt8Gemv(DeviceTensor quantized, DeviceTensor tokenScales, Int8Projection projection)
    {
        int tokens = quantized.Rows, inner = quantized.Columns, outputs = projection.Weight.Rows, accumulate = projection.Accumulate ? 1 : 0;
        ulong x = Own(quantized, nameof(MatMulInt8)).Pointer, ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        ulong w = Own(projection.Weight, nameof(MatMulInt8)).Pointer, ws = Own(projection.WeightScales, nameof(MatMulInt8)).Pointer;
        ulong y = Own(projection.Output, nameof(MatMulInt8)).Pointer;
        ulong b = projection.Bias is null ? 0 : Own(projection.Bias, nameof(MatMulInt8)).Pointer;
        // 16-byte loads need every row of both int8 operands to start 16-byte aligned.
        bool vector = inner % 16 == 0 && (x | w) % 16 == 0;
        LastInt8GemmPath = vector ? Int8GemvPath : Int8GemvBytesPath;
        if (outputs == 0)
        {
            return;
        }

        bool bf16 = projection.Output.Type == TensorType.BFloat16;
        var kernels = (vector, bf16) switch
        {
            (true, false) => s_gemvVectorKernels,
            (false, false) => s_gemvByteKernels,
            (true, true) => s_gemvVectorKernelsBf16,
            (false, true) => s_gemvByteKernelsBf16,
        };
        void** arguments = stackalloc void*[] { &x, &ts, &w, &ws, &b, &y, &outputs, &inner, &accumulate };
        const int channelsPerBlock = GemvRowsPerWarp * GemvWarpsPerBlock;
        Launch(kernels[tokens - 1], (uint)((outputs + channelsPerBlock - 1) / channelsPerBlock), 1, GemvWarpsPerBlock * 32, 0, arguments);
    }

    /// <summary>
    /// The epilogue of <see cref="MatMulInt8"/> alone: output (+)= sums × token scale × channel scale (+ bias), into a
    /// Float32 or BFloat16 output (rounded once at the store).
    /// </summary>
    internal void DequantizeInt8(DeviceTensor sums, DeviceTensor tokenScales, DeviceTensor weightScales, DeviceTensor? bias, DeviceTensor output,
        bool accumulate = false)
    {
        int tokens = sums.Rows, outputs = sums.Columns, add = accumulate ? 1 : 0;
        ulong s = Own(sums, nameof(MatMulInt8)).Pointer, ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        ulong ws = Own(weightScales, nameof(MatMulInt8)).Pointer, y = Own(output, nameof(MatMulInt8)).Pointer;
        ulong b = bias is null ? 0 : Own(bias, nameof(MatMulInt8)).Pointer;
        bool bf16 = output.Type == TensorType.BFloat16;
        // Four outputs a thread: 16 bytes of float, or 8 bytes of bf16, so the output must start that aligned.
        if (outputs % 4 == 0 && (s | ws | b) % 16 == 0 && y % (bf16 ? 8u : 16u) == 0)
        {
            int outputs4 = outputs / 4;
            void** vectorArguments = stackalloc void*[] { &s, &ts, &ws, &b, &y, &outputs4, &add };
            Launch(bf16 ? "dequantize_int8_v4_bf16" : "dequantize_int8_v4", (uint)tokens, (uint)((outputs4 + RowThreads - 1) / RowThreads),
                RowThreads, 0, vectorArguments);
            return;
        }

        void** arguments = stackalloc void*[] { &s, &ts, &ws, &b, &y, &tokens, &outputs, &add };
        Launch(bf16 ? "dequantize_int8_bf16" : "dequantize_int8", GridFor((long)tokens * outputs), 1, RowThreads, 0, arguments);
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
