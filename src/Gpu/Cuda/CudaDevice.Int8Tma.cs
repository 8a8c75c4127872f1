using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

// The own GEMM on Hopper fed by the Tensor Memory Accelerator (int8_tma_gemm.cu): tensor maps of x and of each weight
// encoded per launch on the host, a tile and cluster picked for the shape, one launch.
public sealed unsafe partial class CudaDevice
{
    /// <summary><see cref="LastInt8GemmPath"/> after the own TMA-fed wgmma GEMM ran (int8_tma_gemm.cu, Hopper).</summary>
    public const string Int8TmaPath = "int8 tma";

    /// <summary>
    /// Whether the own GEMM on Hopper is fed by TMA (default), rather than by every thread's cp.async
    /// (int8_wgmma_gemm.cu); tests turn it off to check and time the other.
    /// </summary>
    public bool Int8Tma { get; set; } = true;

    private bool UsesTma => Int8Tma && UsesWgmma;

    /// <summary>The tile the TMA GEMM runs with instead of the one the device picks; null (default) lets it pick. For tests and tuning.</summary>
    internal Int8TmaTile? Int8TmaTileOverride { get; set; }

    /// <summary>The tile the last TMA GEMM ran with.</summary>
    internal Int8TmaTile LastInt8TmaTile { get; private set; }

    // An H200's rates as the pick models them: int8 tensor-core operations per µs of one SM, and the bytes per µs L2
    // delivers to all SMs together. A block's K step takes the longer of its multiplies and its share of L2's deliveries.
    private const double OperationsPerMicrosecondPerSm = 14.9e6, L2BytesPerMicrosecond = 5.5e6;

    /// <summary>
    /// The tile whose blocks are modelled to finish first: rounds of blocks over the SMs, each round's K steps as long
    /// as the slower of a block's tensor-core work and the round's loads from L2 (shared tiles counted once per cluster).
    /// </summary>
    private Int8TmaTile PickTmaTile(int tokens, int outputs, bool swiGlu)
    {
        var best = Int8TmaTile.Gemm[0];
        double fastest = double.MaxValue;
        foreach (var tile in swiGlu ? Int8TmaTile.SwiGlu : Int8TmaTile.Gemm)
        {
            int tileColumns = swiGlu ? tile.Columns / 2 : tile.Columns;
            long rowTiles = RoundUp((tokens + tile.Rows - 1) / tile.Rows, tile.ClusterRows);
            long columnTiles = RoundUp((outputs + tileColumns - 1) / tileColumns, tile.ClusterColumns);
            long blocks = rowTiles * columnTiles, slots = (long)MultiprocessorCount * tile.BlocksPerMultiprocessor;
            double bytes = (tile.Rows / (double)tile.ClusterColumns + tile.Columns / (double)tile.ClusterRows) * 128;
            double time = 0;
            for (long left = blocks; left > 0; left -= slots)
            {
                long active = Math.Min(left, slots);
                double sharing = Math.Min(tile.BlocksPerMultiprocessor, (active + MultiprocessorCount - 1) / MultiprocessorCount);
                double compute = tile.Rows * tile.Columns * 256.0 * sharing / OperationsPerMicrosecondPerSm;
                time += Math.Max(compute, active * bytes / L2BytesPerMicrosecond);
            }

            if (time < fastest)
            {
                (best, fastest) = (tile, time);
            }
        }

        return best;

        static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;
    }

    private void LaunchInt8Tma(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections, bool swiGlu)
    {
        int tokens = quantized.Rows, inner = quantized.Columns;
        int widest = 0;
        foreach (var p in projections)
        {
            widest = swiGlu ? p.Weight.Rows : widest + p.Weight.Rows;
        }

        var tile = Int8TmaTileOverride ?? PickTmaTile(tokens, widest, swiGlu);
        var outputs = ImmaOutputsOf(projections, swiGlu, swiGlu ? tile.Columns / 2 : tile.Columns, out int tiles);

        // x and the weights as TMA sees them: K-contiguous rows, boxes of 128 bytes of K by the rows one block loads
        // (its share of the cluster's tile; a SwiGLU box stays within gate's or up's half). Encoded into 64-byte aligned
        // memory, as the driver requires, laid out as the kernel's TmaMaps.
        byte* raw = stackalloc byte[(1 + MmaMaxOutputs) * sizeof(TensorMap) + 64];
        var maps = (TensorMap*)(((nint)raw + 63) & ~(nint)63);
        int weightBox = tile.Columns / tile.ClusterRows;
        if (swiGlu)
        {
            weightBox = Math.Min(weightBox, tile.Columns / 2);
        }

        EncodeTensorMap(maps, quantized, tile.Rows / tile.ClusterColumns);
        for (int i = 0; i < projections.Length; i++)
        {
            EncodeTensorMap(maps + 1 + i, projections[i].Weight, weightBox);
        }

        LastInt8MmaRows = tile.Rows;
        LastInt8TmaTile = tile;
        LastInt8GemmPath = Int8TmaPath;
        ulong ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        void** arguments = stackalloc void*[] { maps, &ts, &tokens, &inner, &outputs };
        // Whole clusters: a padded block lies past the last row or column tile, loads zeros and writes nothing.
        int rowTiles = (tokens + tile.Rows - 1) / tile.Rows;
        uint gridX = (uint)((rowTiles + tile.ClusterRows - 1) / tile.ClusterRows * tile.ClusterRows);
        uint gridY = (uint)((tiles + tile.ClusterColumns - 1) / tile.ClusterColumns * tile.ClusterColumns);
        Launch(tile.Kernel(swiGlu), gridX, gridY, (uint)tile.Threads, (uint)tile.SharedBytes, arguments);
    }

    private void EncodeTensorMap(TensorMap* map, DeviceTensor codes, int boxRows)
    {
        ulong* dims = stackalloc ulong[] { (ulong)codes.Columns, (ulong)codes.Rows };
        ulong* strides = stackalloc ulong[] { (ulong)codes.Columns };
        uint* box = stackalloc uint[] { MmaDepth, (uint)boxRows };
        uint* elementStrides = stackalloc uint[] { 1, 1 };
        Driver.Check(Driver.cuTensorMapEncodeTiled(map, Driver.TensorMapDataTypeUInt8, 2, (void*)Own(codes, nameof(MatMulInt8)).Pointer,
                dims, strides, box, elementStrides, Driver.TensorMapInterleaveNone, Driver.TensorMapSwizzle128B,
                Driver.TensorMapL2Promotion256B, Driver.TensorMapOutOfBoundsZeros),
            $"{nameof(Driver.cuTensorMapEncodeTiled)}({codes.Rows} × {codes.Columns} int8, box {MmaDepth} × {boxRows})");
    }
}
