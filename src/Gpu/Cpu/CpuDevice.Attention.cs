using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

// Paged attention (Kwon et al. 2023, vLLM §4.1): keys and values live in fixed-size blocks, found through a block table.
public sealed partial class CpuDevice
{
    public void WriteKvCache(DeviceTensor keys, DeviceTensor values, DeviceTensor slots, DeviceTensor keyCache, DeviceTensor valueCache)
    {
        if (Float32Views.Any(keys, values))
        {
            using var views = new Float32Views(this);
            WriteKvCache(views.Of(keys), views.Of(values), slots, keyCache, valueCache);
            return;
        }

        var slot = Indices(slots, nameof(WriteKvCache) + " slots");
        int width = keyCache.Columns;
        RequireShape(valueCache, keyCache.Rows, width, nameof(WriteKvCache) + " value cache");
        RequireShape(keys, slot.Length, width, nameof(WriteKvCache) + " keys");
        RequireShape(values, slot.Length, width, nameof(WriteKvCache) + " values");
        bool bf16 = RequireKvCaches(keyCache, valueCache, nameof(WriteKvCache));
        ReadOnlySpan<float> k = Own(keys).Span<float>(), v = Own(values).Span<float>();
        for (int t = 0; t < slot.Length; t++)
        {
            if (slot[t] < 0)
            {
                continue; // padding: nothing to store
            }

            if (slot[t] >= keyCache.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(slots), $"{nameof(WriteKvCache)}: row {t} goes to slot {slot[t]}, outside the cache's {keyCache.Rows} slots");
            }

            if (bf16)
            {
                BFloat16.Narrow(k.Slice(t * width, width), Own(keyCache).Span<BFloat16>().Slice(slot[t] * width, width));
                BFloat16.Narrow(v.Slice(t * width, width), Own(valueCache).Span<BFloat16>().Slice(slot[t] * width, width));
            }
            else
            {
                k.Slice(t * width, width).CopyTo(Own(keyCache).Span<float>().Slice(slot[t] * width, width));
                v.Slice(t * width, width).CopyTo(Own(valueCache).Span<float>().Slice(slot[t] * width, width));
            }
        }
    }

    public void PagedAttention(DeviceTensor query, DeviceTensor keyCache, DeviceTensor valueCache, AttentionBatch batch,
        AttentionShape shape, DeviceTensor output)
    {
        if (Float32Views.Any(query, output))
        {
            using var views = new Float32Views(this);
            PagedAttention(views.Of(query), keyCache, valueCache, batch, shape, views.Of(output));
            views.Store(output);
            return;
        }

        if (query.Columns != shape.QueryWidth || keyCache.Columns != shape.KvWidth)
        {
            throw new ArgumentException($"{nameof(PagedAttention)}: widths of {query}, {keyCache} do not match {shape}");
        }

        RequireShape(output, query.Rows, shape.QueryWidth, nameof(PagedAttention) + " output");
        RequireShape(valueCache, keyCache.Rows, shape.KvWidth, nameof(PagedAttention) + " value cache");
        long work = CheckBatch(batch, query.Rows, keyCache.Rows) * shape.Heads * shape.HeadDim;

        int sequences = batch.Sequences, blockSize = batch.BlockSize, maxBlocks = batch.BlockTables.Columns;
        int[] starts = Own(batch.QueryStarts).Array<int>(), lengths = Own(batch.ContextLengths).Array<int>();
        int[] tables = Own(batch.BlockTables).Array<int>();
        bool bf16 = RequireKvCaches(keyCache, valueCache, nameof(PagedAttention));
        float[] q = Own(query).Array<float>(), result = Own(output).Array<float>();
        float[]? k = bf16 ? null : Own(keyCache).Array<float>(), v = bf16 ? null : Own(valueCache).Array<float>();
        BFloat16[]? k16 = bf16 ? Own(keyCache).Array<BFloat16>() : null, v16 = bf16 ? Own(valueCache).Array<BFloat16>() : null;
        int headDim = shape.HeadDim, qWidth = shape.QueryWidth, kvWidth = shape.KvWidth;
        float scale = 1f / MathF.Sqrt(headDim);

        // One (query row, head) pair: the same operations in the same order as attention over one contiguous cache,
        // so a sequence's outputs do not depend on where its blocks lie or what else shares the step.
        void QueryHead(int item)
        {
            int row = starts[0] + item / shape.Heads, h = item % shape.Heads, kvHead = h / shape.GroupSize;
            int s = SequenceOfRow(starts, sequences, row);
            int position = lengths[s] - (starts[s + 1] - starts[s]) + (row - starts[s]);
            int start = shape.SlidingWindow is int window ? Math.Max(0, position - window + 1) : 0;
            int count = position + 1 - start;
            var table = tables.AsSpan(s * maxBlocks, maxBlocks);
            var queryVector = q.AsSpan(row * qWidth + h * headDim, headDim);
            var target = result.AsSpan(row * qWidth + h * headDim, headDim);

            // A bf16 cache's row is widened into a scratch row first (exact), then the float32 arithmetic is the same.
            float[] rented = ArrayPool<float>.Shared.Rent(count + (bf16 ? headDim : 0));
            var scores = rented.AsSpan(0, count);
            ReadOnlySpan<float> Row(float[]? floats, BFloat16[]? halves, int slot)
            {
                int at = slot * kvWidth + kvHead * headDim;
                if (halves is null)
                {
                    return floats.AsSpan(at, headDim);
                }

                var widened = rented.AsSpan(count, headDim);
                BFloat16.Widen(halves.AsSpan(at, headDim), widened);
                return widened;
            }

            for (int j = 0; j < count; j++)
            {
                int slot = SlotOf(table, blockSize, start + j);
                scores[j] = TensorPrimitives.Dot(queryVector, Row(k, k16, slot)) * scale;
            }

            TensorPrimitives.SoftMax(scores, scores);
            target.Clear();
            for (int j = 0; j < count; j++)
            {
                int slot = SlotOf(table, blockSize, start + j);
                TensorPrimitives.MultiplyAdd(Row(v, v16, slot), scores[j], target, target);
            }

            ArrayPool<float>.Shared.Return(rented);
        }

        int items = (starts[sequences] - starts[0]) * shape.Heads;
        if (work < 1 << 16)
        {
            for (int item = 0; item < items; item++)
            {
                QueryHead(item);
            }
        }
        else
        {
            Parallel.For(0, items, _parallel, QueryHead);
        }
    }

    /// <summary>The cache row of <paramref name="position"/> in a sequence whose blocks are <paramref name="table"/>.</summary>
    private static int SlotOf(ReadOnlySpan<int> table, int blockSize, int position) =>
        table[position / blockSize] * blockSize + position % blockSize;

    /// <summary>The sequence whose query rows hold <paramref name="row"/>: the last s with starts[s] ≤ row (empty ones skipped).</summary>
    private static int SequenceOfRow(int[] starts, int sequences, int row)
    {
        int low = 0, high = sequences - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (starts[middle] <= row)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <summary>
    /// Checks the batch's tensors against each other and the cache, since a GPU kernel would read out of bounds where
    /// this one throws; returns Σ query rows × context length, the work to decide on fanning out.
    /// </summary>
    private long CheckBatch(AttentionBatch batch, int queryRows, int cacheRows)
    {
        int sequences = batch.Sequences, blockSize = batch.BlockSize;
        string call = nameof(PagedAttention);
        if (sequences < 1 || blockSize < 1 || cacheRows % blockSize != 0)
        {
            throw new ArgumentException($"{call}: {sequences} sequences in blocks of {blockSize} over a cache of {cacheRows} rows; expected at least one sequence and whole blocks");
        }

        var starts = Indices(batch.QueryStarts, call + " query starts");
        var lengths = Indices(batch.ContextLengths, call + " context lengths");
        RequireShape(batch.QueryStarts, 1, sequences + 1, call + " query starts");
        RequireShape(batch.ContextLengths, 1, sequences, call + " context lengths");
        if (batch.BlockTables.Type != TensorType.Int32 || batch.BlockTables.Rows != sequences)
        {
            throw new ArgumentException($"{call} block tables: expected Int32[{sequences}, blocks], got {batch.BlockTables}");
        }

        var tables = Own(batch.BlockTables).Span<int>();
        int maxBlocks = batch.BlockTables.Columns, cacheBlocks = cacheRows / blockSize;
        if (starts[0] < 0 || starts[sequences] > queryRows)
        {
            throw new ArgumentException($"{call}: query rows [{starts[0]}, {starts[sequences]}) outside the query's {queryRows} rows");
        }

        long work = 0;
        for (int s = 0; s < sequences; s++)
        {
            int queries = starts[s + 1] - starts[s], context = lengths[s];
            if (queries < 0 || queries > context || queries > batch.MaxQueryLength || context > batch.MaxContextLength
                || context > maxBlocks * blockSize)
            {
                throw new ArgumentException(
                    $"{call}: sequence {s} has {queries} query rows and {context} cached positions; expected 0 ≤ queries ≤ cached ≤ {maxBlocks * blockSize} (its block table), queries ≤ {batch.MaxQueryLength} and cached ≤ {batch.MaxContextLength}");
            }

            for (int b = 0; b < (context + blockSize - 1) / blockSize; b++)
            {
                int block = tables[s * maxBlocks + b];
                if ((uint)block >= (uint)cacheBlocks)
                {
                    throw new ArgumentOutOfRangeException(nameof(batch), $"{call}: sequence {s}'s block {b} is {block}, outside the cache's {cacheBlocks} blocks");
                }
            }

            work += (long)queries * context;
        }

        return work;
    }
}
