namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // Panels start on 256-byte boundaries (cuBLASLt's default assumed alignment) only if their width is a multiple of 32 doubles.
    private const int GramPanelAlignment = 32;

    private CublasLtGram? _gram;

    /// <summary>How the last <see cref="AccumulateGram"/> ran: "cublasLt fp64, P panels", or "own kernel: " and why.</summary>
    public string LastGramPath { get; private set; } = "none yet";

    /// <summary>Tests: the Gram matrix on this backend's own kernel instead of cuBLASLt.</summary>
    internal bool ForceOwnGramKernel { get; set; }

    /// <summary>
    /// Panels (blocks of columns) the Gram GEMM is split into so that only the upper triangle is computed: 1 is one
    /// full GEMM; P does (P + 1) / 2P of its work in P GEMMs. 0 chooses (8 from n = 2048 up). A count that does not
    /// divide n into multiples of 32 columns is halved until it does (down to 1).
    /// </summary>
    internal int GramPanels { get; set; }

    /// <summary>
    /// Elements of x converted to double per GEMM (rows in chunks of this over n, at least one): the scratch copy stays
    /// within 64 Mi doubles (512 MiB) whatever T is. Settable so tests can exercise the chunks.
    /// </summary>
    internal long GramScratchElements { get; set; } = 64L << 20;

    public void AccumulateAbsMax(DeviceTensor x, DeviceTensor absMax)
    {
        RequireType(x, TensorType.Float32, nameof(AccumulateAbsMax) + " x");
        RequireType(absMax, TensorType.Float32, nameof(AccumulateAbsMax) + " absMax");
        RequireShape(absMax, 1, x.Columns, nameof(AccumulateAbsMax) + " absMax");
        ulong input = Own(x, nameof(AccumulateAbsMax)).Pointer, target = Own(absMax, nameof(AccumulateAbsMax)).Pointer;
        int rows = x.Rows, columns = x.Columns;
        if (rows == 0 || columns == 0)
        {
            return;
        }

        // Threads over columns; enough chunks of rows (at least 16 rows each) that the grid fills the GPU.
        long columnBlocks = (columns + RowThreads - 1) / RowThreads;
        long wanted = MultiprocessorCount * 8L;
        long chunks = Math.Clamp((wanted + columnBlocks - 1) / columnBlocks, 1, (rows + 15) / 16);
        int rowsPerBlock = (int)((rows + chunks - 1) / chunks);
        chunks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        void** arguments = stackalloc void*[] { &input, &target, &rows, &columns, &rowsPerBlock };
        Launch("column_abs_max", (uint)columnBlocks, (uint)chunks, RowThreads, 0, arguments);
    }

    public void AccumulateGram(DeviceTensor x, DeviceTensor gram)
    {
        RequireType(x, TensorType.Float32, nameof(AccumulateGram) + " x");
        RequireType(gram, TensorType.Float64, nameof(AccumulateGram) + " gram");
        RequireShape(gram, x.Columns, x.Columns, nameof(AccumulateGram) + " gram");
        ulong input = Own(x, nameof(AccumulateGram)).Pointer, target = Own(gram, nameof(AccumulateGram)).Pointer;
        int tokens = x.Rows, n = x.Columns;
        if (tokens == 0 || n == 0)
        {
            return;
        }

        string? refusal = CublasLtUnavailable is { } missing ? $"cuBLASLt unavailable: {missing}"
            : ForceOwnGramKernel ? "forced by a test"
            : null;
        if (refusal is null && TryGramOnCublasLt(input, target, tokens, n, out refusal))
        {
            return;
        }

        LastGramPath = "own kernel: " + refusal;
        uint tiles = (uint)((n + 15) / 16);
        void** arguments = stackalloc void*[] { &input, &target, &tokens, &n };
        Launch("gram_f64_tiled", tiles, tiles, 16, 16, 0, arguments);
    }

    /// <summary>x to double in row chunks (into a stream-ordered scratch tensor), then cuBLASLt's fp64 GEMM with β = 1 per chunk.</summary>
    private bool TryGramOnCublasLt(ulong input, ulong target, int tokens, int n, out string? refusal)
    {
        _gram ??= new CublasLtGram(this);
        // H200, T = 4096: n = 4096 in 2.27 ms as one GEMM, 1.48 ms in 4 panels, 1.41 ms in 8; n = 14336 in 26.6, 18.2, 15.9 ms.
        int panels = GramPanels > 0 ? GramPanels : n >= 2048 ? 8 : 1;
        while (panels > 1 && n % (panels * GramPanelAlignment) != 0)
        {
            panels /= 2;
        }

        int chunkRows = (int)Math.Clamp(GramScratchElements / n, 1, tokens);
        // Every plan this call needs exists before anything is queued, so a refusal leaves gram untouched.
        int lastRows = tokens % chunkRows;
        if (!_gram.TryPlan(chunkRows, n, panels, out var plans, out refusal))
        {
            return false;
        }

        CublasLtGram.Plan[]? lastPlans = null;
        if (lastRows != 0 && !_gram.TryPlan(lastRows, n, panels, out lastPlans, out refusal))
        {
            return false;
        }

        ulong scratch = Alloc((long)chunkRows * n * sizeof(double));
        ulong source = input;
        long count = 0;
        void** arguments = stackalloc void*[] { &source, &scratch, &count };
        try
        {
            for (int row = 0; row < tokens; row += chunkRows)
            {
                int rows = Math.Min(chunkRows, tokens - row);
                source = input + (ulong)((long)row * n * sizeof(float));
                count = (long)rows * n;
                Launch("float_to_double", GridFor(count), 1, RowThreads, 0, arguments);
                _gram.Run(rows == chunkRows ? plans : lastPlans!, rows, n, scratch, target);
            }
        }
        finally
        {
            // Stream-ordered: freed after the GEMMs that read it.
            Free(scratch);
        }

        LastGramPath = $"cublasLt fp64, {panels} panel{(panels == 1 ? "" : "s")}";
        return true;
    }
}
