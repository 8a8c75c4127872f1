namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // attention.cu (the general fallback): 128 threads, each holding up to 4 output dimensions of its head.
    private const int AttentionThreads = 128;
    private const int MaxHeadDim = 4 * AttentionThreads;

    // paged_attention.cu: decode blocks of 4 warps, prefill tiles of 64 rows × 64 keys on 256 threads.
    private const int DecodeThreads = 128;
    private const int DecodeWarps = 4;
    private const int PrefillThreads = 256;
    private const int PrefillTileRows = 64;
    private const int PrefillTileKeys = 64;

    // flash_prefill.cu: tiles of 64 rows (16 per warp) × 64 keys on 4 warps, K and V staged as bf16 rows of D + 8.
    // Every kernel has a bf16-cache twin (name infix "bf16_", e.g. paged_decode_bf16_d128_g4), run for BFloat16 caches,
    // and each of those a twin for BFloat16 query and output (suffix "_abf16", e.g. paged_decode_bf16_d128_g4_abf16).
    private const int TensorCoreThreads = 128;
    private const int TensorCoreTileRows = 64;
    private const int TensorCoreTileKeys = 64;
    private const float Log2E = 1.44269504088896340736f;

    /// <summary>The attention kernel the last <see cref="PagedAttention"/> ran, with its grid (for tests and benchmarks).</summary>
    public string LastAttentionPath { get; private set; } = "";

    /// <summary>
    /// Whether prefill chunks (head dim 64/128, group 1/2/4/8) run on tensor cores (flash_prefill.cu: bf16 products,
    /// fp32 accumulation and softmax; within bf16 rounding of the fp32 kernel) rather than the fp32 SIMT paged_prefill.
    /// On by default (used on compute capability 8.0 and later); off to compare the two in tests and benchmarks.
    /// </summary>
    public bool TensorCorePrefill { get; set; } = true;

    public void WriteKvCache(DeviceTensor keys, DeviceTensor values, DeviceTensor slots, DeviceTensor keyCache, DeviceTensor valueCache)
    {
        const string call = nameof(WriteKvCache);
        RequireType(slots, TensorType.Int32, call + " slots");
        RequireShape(slots, 1, keys.Rows, call + " slots");
        RequireShape(values, keys.Rows, keys.Columns, call + " values");
        RequireShape(keyCache, keyCache.Rows, keys.Columns, call + " key cache");
        RequireShape(valueCache, keyCache.Rows, keys.Columns, call + " value cache");
        bool bf16Rows = ActivationsAreBf16(call, ("keys", keys), ("values", values));
        bool bf16 = RequireKvCaches(keyCache, valueCache, call);
        // kv_cache.cu: "_bf16" names the caches' type, "_abf16" the keys' and values'.
        string kernel = (bf16 ? "write_kv_cache_bf16" : "write_kv_cache") + (bf16Rows ? "_abf16" : "");

        ulong k = Own(keys, call).Pointer, v = Own(values, call).Pointer, slot = Own(slots, call).Pointer;
        ulong kc = Own(keyCache, call).Pointer, vc = Own(valueCache, call).Pointer;
        int width = keys.Columns;
        void** arguments = stackalloc void*[] { &k, &v, &slot, &kc, &vc, &width };
        Launch(kernel, (uint)keys.Rows, 1, RowThreads, 0, arguments);
    }

    public void PagedAttention(DeviceTensor query, DeviceTensor keyCache, DeviceTensor valueCache, AttentionBatch batch,
        AttentionShape shape, DeviceTensor output)
    {
        const string call = nameof(PagedAttention);
        bool bf16 = RequireKvCaches(keyCache, valueCache, call);
        string cache = bf16 ? "bf16_" : "";
        // Every attention kernel's twin for BFloat16 query and output ends in "_abf16" ("bf16_" names the caches).
        string activation = ActivationsAreBf16(call, ("query", query), ("output", output)) ? "_abf16" : "";
        if (query.Columns != shape.QueryWidth || output.Columns != shape.QueryWidth
            || keyCache.Columns != shape.KvWidth || valueCache.Columns != shape.KvWidth || valueCache.Rows != keyCache.Rows)
        {
            throw new ArgumentException($"{call}: widths of {query}, {keyCache}, {valueCache}, {output} do not match {shape}");
        }

        RequireShape(output, query.Rows, query.Columns, call + " output");
        if (shape.HeadDim > MaxHeadDim || shape.KvHeads < 1 || shape.Heads % shape.KvHeads != 0)
        {
            throw new ArgumentException($"{call}: {shape} needs head dim ≤ {MaxHeadDim} and heads a multiple of KV heads");
        }

        int sequences = batch.Sequences;
        RequireType(batch.QueryStarts, TensorType.Int32, call + " query starts");
        RequireType(batch.ContextLengths, TensorType.Int32, call + " context lengths");
        RequireType(batch.BlockTables, TensorType.Int32, call + " block tables");
        RequireShape(batch.QueryStarts, 1, sequences + 1, call + " query starts");
        RequireShape(batch.ContextLengths, 1, sequences, call + " context lengths");
        RequireShape(batch.BlockTables, sequences, batch.BlockTables.Columns, call + " block tables");
        if (batch.BlockSize < 1 || keyCache.Rows % batch.BlockSize != 0)
        {
            throw new ArgumentException($"{call}: block size {batch.BlockSize} does not divide the cache's {keyCache.Rows} rows");
        }

        if (sequences == 0 || batch.MaxQueryLength == 0 || query.Rows == 0)
        {
            return;
        }

        ulong q = Own(query, call).Pointer, k = Own(keyCache, call).Pointer, v = Own(valueCache, call).Pointer, o = Own(output, call).Pointer;
        ulong starts = Own(batch.QueryStarts, call).Pointer, lengths = Own(batch.ContextLengths, call).Pointer;
        ulong tables = Own(batch.BlockTables, call).Pointer;
        int maxBlocks = batch.BlockTables.Columns, blockSize = batch.BlockSize;
        int heads = shape.Heads, kvHeads = shape.KvHeads, headDim = shape.HeadDim, group = shape.GroupSize;
        int window = shape.SlidingWindow ?? 0;
        bool fast = headDim is 64 or 128 && group is 1 or 2 or 4 or 8;
        if (!fast)
        {
            float scale = 1f / MathF.Sqrt(headDim);
            void** generic = stackalloc void*[] { &q, &k, &v, &o, &starts, &lengths, &tables, &sequences, &maxBlocks, &blockSize,
                &heads, &kvHeads, &headDim, &window, &scale };
            uint sharedBytes = (uint)((headDim + AttentionThreads) * sizeof(float));
            string kernel = (bf16 ? "paged_attention_generic_bf16" : "paged_attention_generic") + activation;
            Launch(kernel, (uint)query.Rows, (uint)heads, AttentionThreads, sharedBytes, generic);
            LastAttentionPath = $"{kernel}[{query.Rows}×{heads}]";
            return;
        }

        float scaleLog2 = Log2E / MathF.Sqrt(headDim);
        if (batch.MaxQueryLength == 1)
        {
            Decode(q, k, v, o, starts, lengths, tables, maxBlocks, blockSize, sequences, shape, batch.MaxContextLength, scaleLog2, cache, activation);
            return;
        }

        // A mixed step: the prefill kernel takes the chunks of more than one row, the decode kernel the single rows
        // (each kernel skips the other's sequences on the device). One sequence with several rows needs no decode pass.
        int skipDecodeRows = sequences > 1 ? 1 : 0;
        bool tensorCores = TensorCorePrefill && ComputeCapability.Major >= 8; // bf16 mma.sync needs Ampere or later
        int tileRows = tensorCores ? TensorCoreTileRows : PrefillTileRows, tokensPerTile = tileRows / group;
        uint tiles = (uint)((batch.MaxQueryLength + tokensPerTile - 1) / tokensPerTile);
        uint prefillShared = tensorCores
            ? (uint)(2 * TensorCoreTileKeys * (headDim + 8) * sizeof(ushort)) // K and V tiles in bf16 (Q staged in K's), either cache type
            : (uint)(((PrefillTileRows + PrefillTileKeys) * (headDim + 4) + PrefillTileRows * (PrefillTileKeys + 4)) * sizeof(float));
        string prefill = tensorCores ? $"paged_prefill_mma_{cache}d{headDim}_g{group}{activation}" : $"paged_prefill_{cache}d{headDim}_g{group}{activation}";
        void** arguments = stackalloc void*[] { &q, &k, &v, &o, &starts, &lengths, &tables, &maxBlocks, &blockSize, &kvHeads, &window, &scaleLog2, &skipDecodeRows };
        Launch(prefill, tiles, (uint)kvHeads, (uint)sequences, tensorCores ? (uint)TensorCoreThreads : PrefillThreads, 1, prefillShared, arguments);
        string path = $"{prefill}[{tiles}×{kvHeads}×{sequences}]";
        if (skipDecodeRows == 1)
        {
            Decode(q, k, v, o, starts, lengths, tables, maxBlocks, blockSize, sequences, shape, batch.MaxContextLength, scaleLog2, cache, activation);
            path += " + " + LastAttentionPath;
        }

        LastAttentionPath = path;
    }

    /// <summary>
    /// Whether a paged KV cache is BFloat16 (else Float32): both caches of one type, one of the two
    /// (<see cref="IComputeDevice.WriteKvCache"/>, <see cref="IComputeDevice.PagedAttention"/>).
    /// </summary>
    // Flash decoding: the context of each (sequence, kv head) is cut into partitions so that the grid fills the GPU;
    // with more than one, partial results go to a per-call workspace (freed in stream order) and are merged. cache is
    // "bf16_" for bf16 caches (the kernels' name infix), else empty; activation is "_abf16" for a bf16 query and output
    // (the kernels' name suffix, the merge's too: it writes the output), else empty.
    private void Decode(ulong q, ulong k, ulong v, ulong o, ulong starts, ulong lengths, ulong tables, int maxBlocks, int blockSize,
        int sequences, AttentionShape shape, int maxContext, float scaleLog2, string cache, string activation)
    {
        int heads = shape.Heads, kvHeads = shape.KvHeads, headDim = shape.HeadDim, group = shape.GroupSize;
        int window = shape.SlidingWindow ?? 0;
        int span = Math.Max(1, window > 0 ? Math.Min(maxContext, window) : maxContext);
        int pairs = sequences * kvHeads;
        int wanted = Math.Max(1, (2 * MultiprocessorCount + pairs - 1) / pairs);
        int maxPartition = Math.Max(64, 8192 / group / 64 * 64); // scores of a partition: at most 32 KB of shared memory
        int partition = Math.Clamp(((span + wanted - 1) / wanted + 63) / 64 * 64, 64, maxPartition);
        int splits = (span + partition - 1) / partition;
        // A lane reads 16 bytes of a row: 4 floats, or 8 bf16 (paged_attention.cu's DecodeLane).
        int lanes = headDim / (cache.Length > 0 ? 8 : 4), keysPerStep = DecodeWarps * (32 / lanes);
        uint sharedBytes = (uint)((group * partition + keysPerStep * group * headDim + keysPerStep * group) * sizeof(float));

        ulong partialOut = 0, partialMax = 0, partialSum = 0;
        if (splits > 1)
        {
            long partials = (long)sequences * heads * splits;
            partialOut = Alloc(partials * headDim * sizeof(float));
            partialMax = Alloc(partials * sizeof(float));
            partialSum = Alloc(partials * sizeof(float));
        }

        try
        {
            string decode = $"paged_decode_{cache}d{headDim}_g{group}{activation}";
            void** arguments = stackalloc void*[] { &q, &k, &v, &o, &partialOut, &partialMax, &partialSum, &starts, &lengths, &tables,
                &maxBlocks, &blockSize, &kvHeads, &window, &scaleLog2, &partition, &splits };
            Launch(decode, (uint)splits, (uint)kvHeads, (uint)sequences, DecodeThreads, 1, sharedBytes, arguments);
            LastAttentionPath = $"{decode}[{splits}×{kvHeads}×{sequences}, partition {partition}]";
            if (splits > 1)
            {
                void** merge = stackalloc void*[] { &partialOut, &partialMax, &partialSum, &o, &starts, &heads, &headDim, &splits };
                string reduce = "paged_decode_reduce" + activation;
                Launch(reduce, (uint)heads, (uint)sequences, (uint)Math.Min(headDim, 128), 0, merge);
                LastAttentionPath += " + " + reduce;
            }
        }
        finally
        {
            Free(partialOut);
            Free(partialMax);
            Free(partialSum);
        }
    }
}
