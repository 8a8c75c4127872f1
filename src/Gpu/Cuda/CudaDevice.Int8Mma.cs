using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda;

// The W8A8 linear at many tokens as one launch of the own int8 tensor-core GEMM (int8_wgmma_gemm.cu on Hopper,
// int8_mma_gemm.cu elsewhere): sums, the dequantizing epilogue and the residual add or SwiGLU together, for up to three
// projections that share the quantized input. Every kernel has a twin ending "_bf16" whose epilogue writes BFloat16
// outputs (int8_gemm.cuh), picked by the outputs' one type.
public sealed unsafe partial class CudaDevice
{
    /// <summary><see cref="LastInt8GemmPath"/> after the own mma.sync GEMM with the fused epilogue ran (int8_mma_gemm.cu).</summary>
    public const string Int8MmaPath = "int8 mma";

    /// <summary><see cref="LastInt8GemmPath"/> after the own wgmma GEMM with the fused epilogue ran (int8_wgmma_gemm.cu, Hopper).</summary>
    public const string Int8WgmmaPath = "int8 wgmma";

    /// <summary>
    /// Whether the own GEMM runs on Hopper's warpgroup MMA (sm_90: default) rather than mma.sync, which reaches a
    /// fraction of Hopper's int8 rate; tests turn it off to check and time the mma.sync kernel there too.
    /// </summary>
    public bool Int8Wgmma { get; set; } = true;

    private bool UsesWgmma => Int8Wgmma && ComputeCapability == (9, 0);

    /// <summary>
    /// Whether <see cref="MatMulInt8(DeviceTensor, DeviceTensor, ReadOnlySpan{Int8Projection})"/> and
    /// <see cref="MatMulInt8SwiGlu"/> may run the own int8 tensor-core GEMM with its fused epilogue (default; when they
    /// do is <see cref="Int8MmaMinTokens"/>'s), instead of cuBLASLt's int32 GEMM followed by a dequantizing pass; tests
    /// and benchmarks turn it off to compare the two.
    /// </summary>
    public bool Int8Mma { get; set; } = true;

    /// <summary>
    /// The fewest tokens the own GEMM runs a single projection at (o_proj, down_proj, or any linear alone) whatever its K:
    /// 512. Fed by TMA (Hopper), a single projection with K ≤ 8192 takes it from <see cref="Int8GemvMaxTokens"/> + 1
    /// tokens too; below 512 tokens a K of 14336 (down_proj) stays on cuBLASLt, whose split K wins there (51 µs own
    /// against 47 µs at 256 tokens; 57 against 65 at 512 on an H200). Grouped projections (q/k/v, gate/up with SwiGLU)
    /// take the own GEMM from <see cref="Int8GemvMaxTokens"/> + 1 tokens up: one launch against cuBLASLt's two or three,
    /// and no float gate/up round trip (CudaInt8MmaTests' timings; docs/BENCHMARKS.md). Tests lower it to check the kernels.
    /// </summary>
    public int Int8MmaMinTokens { get; set; } = 512;

    // int8_gemm.cuh's IMMA_BN, IMMA_BK, IMMA_STAGES and IMMA_MAX_OUTPUTS; int8_mma_gemm.cu's IMMA_THREADS;
    // int8_wgmma_gemm.cu's WGMMA_STAGES.
    private const int MmaColumns = 128, MmaDepth = 128, MmaStages = 3, MmaThreads = 256, MmaMaxOutputs = 3, WgmmaStages = 4;

    /// <summary>Rows of x a block of the own GEMM takes (64, 128 or 256 for wgmma; 64 or 128 for mma.sync); 0 (default) lets the device pick. For tests and tuning.</summary>
    internal int Int8MmaRows { get; set; }

    /// <summary>The tile height the last own GEMM ran with.</summary>
    internal int LastInt8MmaRows { get; private set; }

    /// <summary>
    /// wgmma's tile height: the one whose blocks finish first, counted in rounds of one block per SM (blocks sharing an
    /// SM share its tensor cores). A taller tile loads fewer bytes per multiply (the kernel is bound by feeding shared
    /// memory from L2) but makes fewer blocks; a block's cost is taken as 1 for 256 rows, 0.625 for 128, 0.425 for 64.
    /// </summary>
    private int WgmmaRows(int tokens, int columnTiles)
    {
        (int Rows, double Cost)[] shapes = [(256, 1.0), (128, 0.625), (64, 0.425)];
        int best = 64;
        double fastest = double.MaxValue;
        foreach (var (rows, cost) in shapes)
        {
            long blocks = (long)(tokens + rows - 1) / rows * columnTiles;
            double time = (blocks + MultiprocessorCount - 1) / MultiprocessorCount * cost;
            if (time < fastest)
            {
                (best, fastest) = (rows, time);
            }
        }

        return best;
    }

    private bool RunsInt8Mma(DeviceTensor quantized, ReadOnlySpan<Int8Projection> projections)
    {
        // cp.async copies 16 bytes at a time: every row of x and of each weight must start 16-byte aligned.
        // A single projection takes the own GEMM from Int8MmaMinTokens, or, fed by TMA, whenever K is not so long that
        // cuBLASLt's split K wins (down_proj's 14336 below 512 tokens on an H200).
        bool grouped = projections.Length > 1 || (UsesTma && quantized.Columns <= 8192);
        int fewest = grouped ? Math.Min(Int8GemvMaxTokens + 1, Int8MmaMinTokens) : Int8MmaMinTokens;
        if (!Int8Mma || ComputeCapability.Major < 8 || quantized.Rows < fewest || quantized.Columns % 16 != 0
            || Own(quantized, nameof(MatMulInt8)).Pointer % 16 != 0)
        {
            return false;
        }

        foreach (var p in projections)
        {
            if (Own(p.Weight, nameof(MatMulInt8)).Pointer % 16 != 0)
            {
                return false;
            }
        }

        return true;
    }

    public void MatMulInt8SwiGlu(DeviceTensor quantized, DeviceTensor tokenScales, Int8Projection gate, Int8Projection up)
    {
        gate = gate with { Accumulate = false };
        up = up with { Accumulate = false };
        RequireW8A8Linear(quantized, tokenScales, gate.Weight, gate.WeightScales, gate.Bias, gate.Output);
        RequireW8A8Linear(quantized, tokenScales, up.Weight, up.WeightScales, up.Bias, up.Output);
        RequireShape(up.Weight, gate.Weight.Rows, gate.Weight.Columns, nameof(MatMulInt8SwiGlu) + " up weight (gate's shape)");
        // With BFloat16 outputs the fused epilogue rounds gate and up to bf16 before silu(gate)·up, as the separate
        // GEMMs would store them and SiluMul read them back, so both must be of that type.
        RequireOneOutputType([gate, up], nameof(MatMulInt8SwiGlu));
        if (RunsGemv(quantized.Rows) || !RunsInt8Mma(quantized, [gate, up]))
        {
            MatMulInt8(quantized, tokenScales, [gate, up]);
            SiluMul(gate.Output, up.Output, gate.Output);
            return;
        }

        LaunchInt8Mma(quantized, tokenScales, [gate, up], swiGlu: true);
    }

    private void MatMulInt8Mma(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections)
    {
        for (int first = 0; first < projections.Length; first += MmaMaxOutputs)
        {
            LaunchInt8Mma(quantized, tokenScales, projections.Slice(first, Math.Min(MmaMaxOutputs, projections.Length - first)), swiGlu: false);
        }
    }

    // One launch over the column tiles of every projection in turn, or (swiGlu: gate and up) over tiles of both at
    // once, whose epilogue writes silu(gate)·up to gate's output.
    private void LaunchInt8Mma(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections, bool swiGlu)
    {
        if (UsesTma)
        {
            LaunchInt8Tma(quantized, tokenScales, projections, swiGlu);
            return;
        }

        var outputs = ImmaOutputsOf(projections, swiGlu, swiGlu ? MmaColumns / 2 : MmaColumns, out int tiles);
        int tokens = quantized.Rows, inner = quantized.Columns;
        ulong x = Own(quantized, nameof(MatMulInt8)).Pointer, ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        // mma.sync blocks are 8 warps with 3 stages; a wgmma block is a warpgroup per 64 rows with 4 stages, and asks
        // 1024 bytes more to align them.
        bool wgmma = UsesWgmma, bf16 = projections[0].Output.Type == TensorType.BFloat16;
        int rows = Int8MmaRows > 0 ? Int8MmaRows : wgmma ? WgmmaRows(tokens, tiles) : (tokens + 127) / 128 * tiles >= MultiprocessorCount ? 128 : 64;
        LastInt8MmaRows = rows;
        LastInt8GemmPath = wgmma ? Int8WgmmaPath : Int8MmaPath;
        uint threads = wgmma ? (uint)rows * 2 : MmaThreads;
        uint shared = (uint)(wgmma ? (rows + MmaColumns) * MmaDepth * WgmmaStages + 1024 : (rows + MmaColumns) * MmaDepth * MmaStages);
        void** arguments = stackalloc void*[] { &x, &ts, &tokens, &inner, &outputs };
        string kernel = (wgmma, swiGlu, rows) switch
        {
            (true, false, 256) => "int8_wgmma_gemm_m256",
            (true, true, 256) => "int8_wgmma_swiglu_m256",
            (false, false, 128) => "int8_mma_gemm_m128",
            (false, false, _) => "int8_mma_gemm_m64",
            (false, true, 128) => "int8_mma_swiglu_m128",
            (false, true, _) => "int8_mma_swiglu_m64",
            (true, false, 128) => "int8_wgmma_gemm_m128",
            (true, false, _) => "int8_wgmma_gemm_m64",
            (true, true, 128) => "int8_wgmma_swiglu_m128",
            (true, true, _) => "int8_wgmma_swiglu_m64",
        };
        Launch(bf16 ? kernel + "_bf16" : kernel, (uint)((tokens + rows - 1) / rows), (uint)tiles, threads, shared, arguments);
    }

    // The kernel's view of the projections: each output's pointers and width, and where its column tiles
    // (tileColumns wide) start in the grid's y; gate and up of a SwiGLU share their tiles, counted once.
    private ImmaOutputs ImmaOutputsOf(ReadOnlySpan<Int8Projection> projections, bool swiGlu, int tileColumns, out int tiles)
    {
        var outputs = new ImmaOutputs { Count = projections.Length };
        tiles = 0;
        for (int i = 0; i < projections.Length; i++)
        {
            var p = projections[i];
            outputs.TileStarts[i] = swiGlu ? 0 : tiles;
            outputs.Of[i] = new ImmaOutput
            {
                Weight = Own(p.Weight, nameof(MatMulInt8)).Pointer,
                WeightScales = Own(p.WeightScales, nameof(MatMulInt8)).Pointer,
                Bias = p.Bias is null ? 0 : Own(p.Bias, nameof(MatMulInt8)).Pointer,
                Output = Own(p.Output, nameof(MatMulInt8)).Pointer,
                Outputs = p.Weight.Rows,
                Accumulate = p.Accumulate ? 1 : 0,
            };
            if (!swiGlu || i == 0)
            {
                tiles += (p.Weight.Rows + tileColumns - 1) / tileColumns;
            }
        }

        outputs.TileStarts[projections.Length] = tiles;
        return outputs;
    }

    // int8_gemm.cuh's ImmaOutput and ImmaOutputs, field for field (the kernel takes ImmaOutputs by value).
    [StructLayout(LayoutKind.Sequential)]
    private struct ImmaOutput
    {
        public ulong Weight, WeightScales, Bias, Output;
        public int Outputs, Accumulate;
    }

    [InlineArray(MmaMaxOutputs)]
    private struct ImmaOutputArray
    {
        private ImmaOutput _first;
    }

    [InlineArray(MmaMaxOutputs + 1)]
    private struct ImmaTileStarts
    {
        private int _first;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ImmaOutputs
    {
        public ImmaOutputArray Of;
        public ImmaTileStarts TileStarts;
        public int Count;
    }
}
