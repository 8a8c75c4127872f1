namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// A tile of the own TMA-fed GEMM (int8_tma_gemm.cu): <see cref="Rows"/> × <see cref="Columns"/> outputs per block, in
/// clusters of <see cref="ClusterRows"/> row tiles (which share the weight tile: each loads a share and multicasts it) by
/// <see cref="ClusterColumns"/> column tiles (which share the x tile), with <see cref="Stages"/> K stages in shared memory.
/// </summary>
internal readonly record struct Int8TmaTile(int Rows, int Columns, int ClusterRows, int ClusterColumns, int Stages)
{
    /// <summary>The tiles int8_tma_gemm.cu instantiates for plain projections (one to three sharing x).</summary>
    public static readonly Int8TmaTile[] Gemm =
    [
        new(128, 128, 1, 1, 6), new(128, 128, 2, 1, 6), new(128, 128, 1, 2, 6),
        new(128, 192, 1, 1, 5), new(128, 192, 2, 1, 5), new(128, 192, 1, 2, 5), new(128, 192, 2, 2, 5),
        new(256, 128, 1, 1, 4), new(256, 128, 1, 2, 4), new(64, 128, 1, 1, 4),
    ];

    /// <summary>The tiles it instantiates for gate and up with SwiGLU in the epilogue (Columns / 2 of each per block).</summary>
    public static readonly Int8TmaTile[] SwiGlu =
    [
        new(128, 128, 1, 1, 6), new(128, 128, 2, 1, 6), new(128, 192, 2, 1, 5), new(128, 192, 2, 2, 5),
        new(256, 128, 1, 2, 4), new(64, 128, 1, 1, 4),
    ];

    /// <summary>Consumer warpgroups (one per 64 rows) and the producer warp.</summary>
    public int Threads => Rows * 2 + 32;

    /// <summary>The stages and 1024 bytes to align them (the swizzle's period); K stages are 128 bytes deep.</summary>
    public int SharedBytes => (Rows + Columns) * 128 * Stages + 1024;

    /// <summary>Blocks an SM holds at once: two of the 64-row tiles, one of the others.</summary>
    public int BlocksPerMultiprocessor => Rows == 64 ? 2 : 1;

    public string Kernel(bool swiGlu) => $"int8_tma_{(swiGlu ? "swiglu" : "gemm")}_m{Rows}n{Columns}c{ClusterRows}x{ClusterColumns}";

    public override string ToString() => $"{Rows}×{Columns}, cluster {ClusterRows}×{ClusterColumns}";
}
