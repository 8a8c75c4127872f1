namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// A tile of the own TMA-fed GEMM (int8_tma_gemm.cu): <see cref="Rows"/> × <see cref="Columns"/> outputs per block
/// (<see cref="Columns"/> / 2 of gate and of up for SwiGLU), with <see cref="Stages"/> K stages in shared memory.
/// </summary>
internal readonly record struct Int8TmaTile(int Rows, int Columns, int Stages)
{
    public static readonly Int8TmaTile Tall = new(256, 128, 4), Narrow = new(256, 96, 4), Square = new(128, 128, 6), Short = new(64, 128, 4);

    /// <summary>The tiles int8_tma_gemm.cu instantiates for plain projections (one to three sharing x).</summary>
    public static readonly Int8TmaTile[] Gemm = [Tall, Narrow, Square, Short];

    /// <summary>The tiles it instantiates for gate and up with SwiGLU in the epilogue.</summary>
    public static readonly Int8TmaTile[] SwiGlu = [Tall, Square, Short];

    /// <summary>Consumer warpgroups (one per 64 rows) and the producer warp.</summary>
    public int Threads => Rows * 2 + 32;

    /// <summary>The stages and 1024 bytes to align them (the swizzle's period); K stages are 128 bytes deep.</summary>
    public int SharedBytes => (Rows + Columns) * 128 * Stages + 1024;

    /// <summary>The kernel's name: plain projections or SwiGLU, writing Float32 outputs or (<paramref name="bf16"/>) BFloat16 ones.</summary>
    public string Kernel(bool swiGlu, bool bf16 = false) => $"int8_tma_{(swiGlu ? "swiglu" : "gemm")}_m{Rows}n{Columns}{(bf16 ? "_bf16" : "")}";

    public override string ToString() => $"{Rows}×{Columns}";
}
