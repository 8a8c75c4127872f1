namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // Panels start on 256-byte boundaries (cuBLASLt's default assumed alignment) only if their width is a multiple of
    // 32 doubles (of 128 bf16 values for a bf16 x).
    private const int GramPanelAlignment = 32;
    private const int GramPanelAlignmentBf16 = 128;

    private CublasLtGram? _gram;

    // A bf16 x's float32 Gram sums, [n, n], kept across calls (calibration makes thousands, at n up to 14336: 822 MB)
    // and grown when a wider x comes; freed with the device.
    private ulong _gramPartial;
    private long _gramPartialElements;

    /// <summary>How the last <see cref="AccumulateGram"/> ran: "cublasLt fp64 (or bf16), P panels", or "own kernel: " and why.</summary>
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
        RequireFloatInput(x, nameof(AccumulateAbsMax));
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
        Launch(x.Type == TensorType.BFloat16 ? "column_abs_max_bf16" : "column_abs_max", (uint)columnBlocks, (uint)chunks, RowThreads, 0, arguments);
    }

    public void AccumulateGram(DeviceTensor x, DeviceTensor gram)
    {
        RequireFloatInput(x, nameof(AccumulateGram));
        RequireType(gram, TensorType.Float64, nameof(AccumulateGram) + " gram");
        RequireShape(gram, x.Columns, x.Columns, nameof(AccumulateGram) + " gram");
        ulong input = Own(x, nameof(AccumulateGram)).Pointer, target = Own(gram, nameof(AccumulateGram)).Pointer;
        int tokens = x.Rows, n = x.Columns;
        if (tokens == 0 || n == 0)
        {
            return;
        }

        bool bf16 = x.Type == TensorType.BFloat16;
        string? refusal = CublasLtUnavailable is { } missing ? $"cuBLASLt unavailable: {missing}"
            : ForceOwnGramKernel ? "forced by a test"
            : null;
        if (refusal is null && (bf16 ? TryBf16GramOnCublasLt(input, target, tokens, n, out refusal) : TryGramOnCublasLt(input, target, tokens, n, out refusal)))
        {
            return;
        }

        // The own kernel sums a bf16 x in double, as a Float32 one: the contract allows float sums, it does not ask for them.
        LastGramPath = "own kernel: " + refusal;
        uint tiles = (uint)((n + 15) / 16);
        void** arguments = stackalloc void*[] { &input, &target, &tokens, &n };
        Launch(bf16 ? "gram_f64_tiled_bf16" : "gram_f64_tiled", tiles, tiles, 16, 16, 0, arguments);
    }

    /// <summary>
    /// A bf16 x's Gram on tensor cores: xᵀx with exact products and fp32 sums (as llm-compressor's <c>inp.float()</c>
    /// Hessian) into the kept float32 partial, whose upper triangle one kernel then adds to the double gram.
    /// </summary>
    private bool TryBf16GramOnCublasLt(ulong input, ulong target, int tokens, int n, out string? refusal)
    {
        _gram ??= new CublasLtGram(this);
        int panels = GramPanelCount(n, GramPanelAlignmentBf16);
        if (!_gram.TryPlan(bf16: true, tokens, n, panels, out var plans, out refusal))
        {
            return false;
        }

        long elements = (long)n * n;
        if (elements > _gramPartialElements)
        {
            // Stream-ordered: the old partial is freed after the work queued on it.
            Free(_gramPartial);
            _gramPartial = 0;
            _gramPartialElements = 0;
            _gramPartial = Alloc(elements * sizeof(float));
            _gramPartialElements = elements;
        }

        _gram.Run(plans, tokens, n, input, _gramPartial);
        ulong partial = _gramPartial;
        void** arguments = stackalloc void*[] { &partial, &target, &n };
        Launch("gram_add_upper_f32", (uint)((n + RowThreads - 1) / RowThreads), (uint)n, RowThreads, 0, arguments);
        LastGramPath = $"cublasLt bf16, {panels} panel{(panels == 1 ? "" : "s")}";
        return true;
    }

    /// <summary>
    /// The panels the Gram GEMM is split into: <see cref="GramPanels"/>, or the measured choice, halved until each panel
    /// is a multiple of <paramref name="alignment"/> columns.
    /// </summary>
    private int GramPanelCount(int n, int alignment)
    {
        // H200, T = 4096, fp64: n = 4096 in 2.27 ms as one GEMM, 1.48 ms in 4 panels, 1.41 ms in 8; n = 14336 in 26.6,
        // 18.2, 15.9 ms. (bf16 takes the same choice, unmeasured.)
        int panels = GramPanels > 0 ? GramPanels : n >= 2048 ? 8 : 1;
        while (panels > 1 && n % (panels * alignment) != 0)
        {
            panels /= 2;
        }

        return panels;
    }

    /// <summary>x to double in row chunks (into a stream-ordered scratch tensor), then cuBLASLt's fp64 GEMM with β = 1 per chunk.</summary>
    private bool TryGramOnCublasLt(ulong input, ulong target, int tokens, int n, out string? refusal)
    {
        _gram ??= new CublasLtGram(this);
        int panels = GramPanelCount(n, GramPanelAlignment);
        int chunkRows = (int)Math.Clamp(GramScratchElements / n, 1, tokens);
        // Every plan this call needs exists before anything is queued, so a refusal leaves gram untouched.
        int lastRows = tokens % chunkRows;
        if (!_gram.TryPlan(bf16: false, chunkRows, n, panels, out var plans, out refusal))
        {
            return false;
        }

        CublasLtGram.Plan[]? lastPlans = null;
        if (lastRows != 0 && !_gram.TryPlan(bf16: false, lastRows, n, panels, out lastPlans, out refusal))
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
