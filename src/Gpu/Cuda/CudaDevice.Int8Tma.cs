using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

// The own GEMM on Hopper fed by the Tensor Memory Accelerator (int8_tma_gemm.cu): tensor maps of x and of each weight
// encoded per launch on the host, a tile picked for the shape, one launch.
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

    /// <summary>
    /// The tallest tile (fewest bytes loaded per multiply) that wastes less than half of itself on rows past T and
    /// still makes blocks for 70 % of the SMs, else 64 rows (two blocks an SM); a 256-row tile 96 columns wide when
    /// its blocks fill the SMs where 128-wide ones leave some idle (a 96-wide block costs about 0.87 of a 128-wide one:
    /// its weight tile is smaller, but x is staged as often). On an H200 this picked the fastest tile of every
    /// Llama-3-8B linear from 16 to 2048 tokens (CudaInt8MmaTests' timings, docs/BENCHMARKS.md).
    /// </summary>
    private Int8TmaTile PickTmaTile(int tokens, ReadOnlySpan<Int8Projection> projections, bool swiGlu)
    {
        foreach (var tile in (ReadOnlySpan<Int8TmaTile>)[Int8TmaTile.Tall, Int8TmaTile.Square])
        {
            long rowTiles = (tokens + tile.Rows - 1) / tile.Rows;
            long blocks = rowTiles * ColumnTiles(projections, swiGlu, tile.Columns);
            if ((rowTiles * tile.Rows - tokens) * 2 >= tile.Rows || blocks * 10 < MultiprocessorCount * 7L)
            {
                continue;
            }

            if (tile == Int8TmaTile.Tall && !swiGlu)
            {
                long narrowBlocks = rowTiles * ColumnTiles(projections, swiGlu, Int8TmaTile.Narrow.Columns);
                double tall = Rounds(blocks) * 1.0, narrow = Rounds(narrowBlocks) * 0.87;
                return narrow < tall ? Int8TmaTile.Narrow : Int8TmaTile.Tall;
            }

            return tile;
        }

        return Int8TmaTile.Short;

        long Rounds(long blocks) => (blocks + MultiprocessorCount - 1) / MultiprocessorCount;
    }

    private static long ColumnTiles(ReadOnlySpan<Int8Projection> projections, bool swiGlu, int tileColumns)
    {
        if (swiGlu)
        {
            return (projections[0].Weight.Rows + tileColumns / 2 - 1) / (tileColumns / 2);
        }

        long tiles = 0;
        foreach (var p in projections)
        {
            tiles += (p.Weight.Rows + tileColumns - 1) / tileColumns;
        }

        return tiles;
    }

    private void LaunchInt8Tma(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections, bool swiGlu)
    {
        int tokens = quantized.Rows, inner = quantized.Columns;
        var tile = Int8TmaTileOverride is { } forced && (!swiGlu || Int8TmaTile.SwiGlu.Contains(forced)) ? forced : PickTmaTile(tokens, projections, swiGlu);
        var outputs = ImmaOutputsOf(projections, swiGlu, swiGlu ? tile.Columns / 2 : tile.Columns, out int tiles);

        // x and the weights as TMA sees them: K-contiguous rows, boxes of 128 bytes of K by the tile's rows (a SwiGLU
        // weight box is half the tile: gate's columns, then up's). Encoded into 64-byte aligned memory, as the driver
        // requires, laid out as the kernel's TmaMaps.
        byte* raw = stackalloc byte[(1 + MmaMaxOutputs) * sizeof(TensorMap) + 64];
        var maps = (TensorMap*)(((nint)raw + 63) & ~(nint)63);
        EncodeTensorMap(maps, quantized, tile.Rows);
        for (int i = 0; i < projections.Length; i++)
        {
            EncodeTensorMap(maps + 1 + i, projections[i].Weight, swiGlu ? tile.Columns / 2 : tile.Columns);
        }

        LastInt8MmaRows = tile.Rows;
        LastInt8TmaTile = tile;
        LastInt8GemmPath = Int8TmaPath;
        ulong ts = Own(tokenScales, nameof(MatMulInt8)).Pointer;
        void** arguments = stackalloc void*[] { maps, &ts, &tokens, &inner, &outputs };
        LaunchDependent(tile.Kernel(swiGlu, bf16: projections[0].Output.Type == TensorType.BFloat16), (uint)((tokens + tile.Rows - 1) / tile.Rows), (uint)tiles, (uint)tile.Threads, (uint)tile.SharedBytes, arguments);
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
