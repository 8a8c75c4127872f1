using System.Diagnostics;
using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// WriteKvCache and PagedAttention on the GPU against a straightforward double-precision reference computed here, on
/// random data: several sequences of different lengths, prefill chunks and decode rows mixed, block tables that are
/// a random permutation of the pool, GQA, sliding windows. Every fast path (head dim 64/128 × group 1/2/4/8, decode and
/// prefill kernels) and the general fallback is reached by some case. Each case also runs with BFloat16 caches (the
/// kernels' bf16 twins), against the reference on the bf16-rounded keys and values.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaPagedAttentionTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const double Tolerance = 1e-4;
    private const int BlockSize = 16;

    /// <summary>"queryLength:contextLength" per sequence, heads, KV heads, head dim, sliding window.</summary>
    public static TheoryData<string, int, int, int, int?> Cases() => new()
    {
        { "37:37,1:300,20:85,1:1,64:200", 32, 8, 128, null }, // mixed, Llama-3-8B heads: prefill kernel d128 g4
        { "37:37,1:300,20:85,1:1,64:200", 8, 4, 64, 50 }, // mixed, sliding window: prefill d64 g2
        { "300:300", 32, 8, 128, null }, // one long prefill: many query and key tiles, causal skipping
        { "1:700,1:33,1:1,1:257,1:512", 32, 8, 128, null }, // decode only: flash decoding with partitions
        { "1:700,1:33,1:1,1:257,1:512", 8, 4, 64, 100 }, // decode only, sliding window
        { "1:1024", 32, 8, 128, null }, // one sequence: many partitions merged
        { "1:150,0:20,1:3", 32, 8, 128, null }, // a sequence with no query this step
        { "100:100,1:50", 16, 2, 64, null }, // group 8, prefill
        { "1:77,1:300", 16, 2, 128, 64 }, // group 8, decode, window
        { "5:40,1:90", 4, 4, 64, null }, // no grouping
        { "13:60,1:200,0:10,3:3", 6, 2, 80, 30 }, // head dim 80, group 3: the general kernel
    };

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void PagedAttentionMatchesTheReference(string sequences, int heads, int kvHeads, int headDim, int? window) =>
        Check(sequences, heads, kvHeads, headDim, window, bf16Cache: false);

    /// <summary>
    /// BFloat16 caches: this step's keys and values rounded into them by WriteKvCache, the rest uploaded rounded, and
    /// the fp32 kernels' bf16 twins within the fp32 tolerance of the reference on the rounded keys and values (widening
    /// is exact, so the only difference from the fp32 cache is the rounding the reference sees too).
    /// </summary>
    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void PagedAttentionWithBFloat16CachesMatchesTheReference(string sequences, int heads, int kvHeads, int headDim, int? window) =>
        Check(sequences, heads, kvHeads, headDim, window, bf16Cache: true);

    private void Check(string sequences, int heads, int kvHeads, int headDim, int? window, bool bf16Cache)
    {
        var random = Compare.Fresh(out int seed);
        var shape = new AttentionShape(heads, kvHeads, headDim, window);
        var specs = sequences.Split(',').Select(p => p.Split(':')).Select(p => (Query: int.Parse(p[0]), Context: int.Parse(p[1]))).ToArray();
        var layout = PagedLayout.Create(random, specs, BlockSize, spareBlocks: 7);
        int tokens = layout.QueryStarts[^1], cacheRows = layout.TotalBlocks * BlockSize;
        var q = Compare.Floats(random, tokens * shape.QueryWidth, 2f);
        var keyCache = Compare.Floats(random, cacheRows * shape.KvWidth, 2f);
        var valueCache = Compare.Floats(random, cacheRows * shape.KvWidth);
        // This step's keys and values, written by WriteKvCache over garbage in their slots, as a layer does.
        var slots = layout.StepSlots(specs);
        var stepKeys = new float[tokens * shape.KvWidth];
        var stepValues = new float[tokens * shape.KvWidth];
        for (int t = 0; t < tokens; t++)
        {
            Array.Copy(keyCache, slots[t] * shape.KvWidth, stepKeys, t * shape.KvWidth, shape.KvWidth);
            Array.Copy(valueCache, slots[t] * shape.KvWidth, stepValues, t * shape.KvWidth, shape.KvWidth);
        }

        var garbageKeys = (float[])keyCache.Clone();
        var garbageValues = (float[])valueCache.Clone();
        foreach (int slot in slots)
        {
            Array.Fill(garbageKeys, 1e3f, slot * shape.KvWidth, shape.KvWidth);
            Array.Fill(garbageValues, -1e3f, slot * shape.KvWidth, shape.KvWidth);
        }

        var expected = bf16Cache
            ? Reference(q, Rounded(keyCache), Rounded(valueCache), layout, shape)
            : Reference(q, keyCache, valueCache, layout, shape);

        var gpu = devices.Gpu;
        using var query = gpu.UploadNew<float>(q, tokens, shape.QueryWidth);
        using var keys = UploadCache(gpu, garbageKeys, cacheRows, shape.KvWidth, bf16Cache);
        using var values = UploadCache(gpu, garbageValues, cacheRows, shape.KvWidth, bf16Cache);
        using var newKeys = gpu.UploadNew<float>(stepKeys, tokens, shape.KvWidth);
        using var newValues = gpu.UploadNew<float>(stepValues, tokens, shape.KvWidth);
        using var slotTensor = gpu.UploadVector<int>(slots);
        using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var batch = layout.Upload(gpu, specs);
        gpu.WriteKvCache(newKeys, newValues, slotTensor, keys, values);

        // These are the fp32 kernels' tests (CudaTensorCorePrefillTests has the tensor-core prefill's, at bf16 tolerance).
        gpu.TensorCorePrefill = false;
        try
        {
            gpu.PagedAttention(query, keys, values, batch, shape, result);
        }
        finally
        {
            gpu.TensorCorePrefill = true;
        }

        string path = gpu.LastAttentionPath;
        Compare.Close(expected, result.ToArray<float>(), Tolerance, $"PagedAttention {sequences} {shape} via {path} (seed {seed})");
        output.WriteLine($"{sequences} {shape}{(bf16Cache ? ", bf16 caches" : "")}: {path}");
        // Every attention kernel of the path is the one for the caches' type (the partition merge reads no cache).
        foreach (string kernel in path.Split(" + ").Where(k => !k.StartsWith("paged_decode_reduce", StringComparison.Ordinal)))
        {
            Assert.Equal(bf16Cache, kernel.Contains("bf16", StringComparison.Ordinal));
        }
    }

    /// <summary>Each float rounded to bf16 and widened back: what a bf16 cache holds.</summary>
    internal static float[] Rounded(float[] values) => values.Select(BFloat16.Round).ToArray();

    internal static BFloat16[] Narrowed(float[] values)
    {
        var narrowed = new BFloat16[values.Length];
        BFloat16.Narrow(values, narrowed);
        return narrowed;
    }

    /// <summary>A cache of <paramref name="rows"/> × <paramref name="width"/>: fp32, or rounded to BFloat16.</summary>
    internal static DeviceTensor UploadCache(IComputeDevice device, float[] data, int rows, int width, bool bf16) =>
        bf16 ? device.UploadNew<BFloat16>(Narrowed(data), rows, width) : device.UploadNew<float>(data, rows, width);

    /// <summary>
    /// WriteKvCache into BFloat16 caches: exactly BFloat16.RoundBits of each key and value (ties to even, NaN quiet,
    /// overflow to infinity) in its slot, every other row's bits untouched; the scalar path for odd widths too.
    /// </summary>
    [GpuFact]
    public void WriteKvCacheRoundsIntoBFloat16CachesExactly()
    {
        var random = Compare.Fresh(out int seed);
        int rows = 64, width = 96, tokens = 9;
        var keyCache = Enumerable.Range(0, rows * width).Select(_ => new BFloat16((ushort)random.Next(65536))).ToArray();
        var valueCache = Enumerable.Range(0, rows * width).Select(_ => new BFloat16((ushort)random.Next(65536))).ToArray();
        var keys = Compare.Floats(random, tokens * width, 3f);
        var values = Compare.Floats(random, tokens * width, 3f);
        // Ties (to even: down from an even bf16, up from an odd one), a value just above a tie, NaNs with payloads only
        // in the low bits, infinities, overflow past the largest bf16, subnormals, signed zero.
        uint[] special = [0x3F808000, 0x3F818000, 0x3F808001, 0xBF818000, 0x7F800001, 0xFFC00001, 0x7F800000, 0xFF800000,
            0x7F7FFFFF, 0x7F7F8000, 0x00008000, 0x00018000, 0x80000000, 0x00000001];
        for (int i = 0; i < special.Length; i++)
        {
            keys[i * 7] = BitConverter.UInt32BitsToSingle(special[i]);
            values[width + i * 5] = BitConverter.UInt32BitsToSingle(special[special.Length - 1 - i]);
        }

        int[] slots = [17, 3, 63, -1, 0, 40, 41, 16, 5];
        var expectedKeys = (BFloat16[])keyCache.Clone();
        var expectedValues = (BFloat16[])valueCache.Clone();
        for (int t = 0; t < tokens; t++)
        {
            for (int c = 0; slots[t] >= 0 && c < width; c++)
            {
                expectedKeys[slots[t] * width + c] = new BFloat16(BFloat16.RoundBits(keys[t * width + c]));
                expectedValues[slots[t] * width + c] = new BFloat16(BFloat16.RoundBits(values[t * width + c]));
            }
        }

        var gpu = devices.Gpu;
        using var kc = gpu.UploadNew<BFloat16>(keyCache, rows, width);
        using var vc = gpu.UploadNew<BFloat16>(valueCache, rows, width);
        using var k = gpu.UploadNew<float>(keys, tokens, width);
        using var v = gpu.UploadNew<float>(values, tokens, width);
        using var s = gpu.UploadVector<int>(slots);
        gpu.WriteKvCache(k, v, s, kc, vc);
        Assert.Equal(expectedKeys, kc.ToArray<BFloat16>());
        Assert.Equal(expectedValues, vc.ToArray<BFloat16>());

        // Odd widths take the scalar path.
        using var oddCache = gpu.Allocate(TensorType.BFloat16, 4, 3);
        float[] odd = [1f, 2, 3, 1.00390625f, 1.01171875f, -3.4e38f];
        using var oddRows = gpu.UploadNew<float>(odd, 2, 3);
        using var oddSlots = gpu.UploadVector<int>([2, 0]);
        gpu.WriteKvCache(oddRows, oddRows, oddSlots, oddCache, oddCache);
        var oddExpected = new BFloat16[12];
        for (int c = 0; c < 3; c++)
        {
            oddExpected[c] = new BFloat16(BFloat16.RoundBits(odd[3 + c]));
            oddExpected[6 + c] = new BFloat16(BFloat16.RoundBits(odd[c]));
        }

        Assert.Equal(oddExpected, oddCache.ToArray<BFloat16>());
        _ = seed;
    }

    /// <summary>A key cache and a value cache of different types are refused by both calls, naming both.</summary>
    [GpuFact]
    public void MixedCacheTypesAreRefused()
    {
        var gpu = devices.Gpu;
        var shape = new AttentionShape(4, 2, 64);
        (int Query, int Context)[] specs = [(2, 2)];
        var layout = PagedLayout.Create(new Random(1), specs, BlockSize, spareBlocks: 0);
        int cacheRows = layout.TotalBlocks * BlockSize;
        using var fp32Cache = gpu.Allocate(TensorType.Float32, cacheRows, shape.KvWidth);
        using var bf16Cache = gpu.Allocate(TensorType.BFloat16, cacheRows, shape.KvWidth);
        using var rows = gpu.Allocate(TensorType.Float32, 2, shape.KvWidth);
        using var slots = gpu.UploadVector<int>([0, 1]);
        using var query = gpu.Allocate(TensorType.Float32, 2, shape.QueryWidth);
        using var result = gpu.Allocate(TensorType.Float32, 2, shape.QueryWidth);
        using var batch = layout.Upload(gpu, specs);
        foreach (var (keys, values) in new[] { (fp32Cache, bf16Cache), (bf16Cache, fp32Cache) })
        {
            var write = Assert.Throws<ArgumentException>(() => gpu.WriteKvCache(rows, rows, slots, keys, values));
            Assert.Contains(nameof(IComputeDevice.WriteKvCache), write.Message);
            Assert.Contains(keys.ToString()!, write.Message);
            Assert.Contains(values.ToString()!, write.Message);
            var attend = Assert.Throws<ArgumentException>(() => gpu.PagedAttention(query, keys, values, batch, shape, result));
            Assert.Contains(nameof(IComputeDevice.PagedAttention), attend.Message);
            Assert.Contains(keys.ToString()!, attend.Message);
            Assert.Contains(values.ToString()!, attend.Message);
        }
    }

    [GpuFact]
    public void WriteKvCacheScattersRowsExactlyAndSkipsNegativeSlots()
    {
        var random = Compare.Fresh(out int seed);
        int rows = 64, width = 96, tokens = 9;
        var keyCache = Compare.Floats(random, rows * width);
        var valueCache = Compare.Floats(random, rows * width);
        var keys = Compare.Floats(random, tokens * width);
        var values = Compare.Floats(random, tokens * width);
        int[] slots = [17, 3, 63, -1, 0, 40, 41, 16, 5];
        var expectedKeys = (float[])keyCache.Clone();
        var expectedValues = (float[])valueCache.Clone();
        for (int t = 0; t < tokens; t++)
        {
            if (slots[t] >= 0)
            {
                Array.Copy(keys, t * width, expectedKeys, slots[t] * width, width);
                Array.Copy(values, t * width, expectedValues, slots[t] * width, width);
            }
        }

        var gpu = devices.Gpu;
        using var kc = gpu.UploadNew<float>(keyCache, rows, width);
        using var vc = gpu.UploadNew<float>(valueCache, rows, width);
        using var k = gpu.UploadNew<float>(keys, tokens, width);
        using var v = gpu.UploadNew<float>(values, tokens, width);
        using var s = gpu.UploadVector<int>(slots);
        gpu.WriteKvCache(k, v, s, kc, vc);
        Assert.Equal(expectedKeys, kc.ToArray<float>());
        Assert.Equal(expectedValues, vc.ToArray<float>());

        // Odd widths take the scalar path.
        using var oddCache = gpu.Allocate(TensorType.Float32, 4, 3);
        using var oddRows = gpu.UploadNew<float>([1f, 2, 3, 4, 5, 6], 2, 3);
        using var oddSlots = gpu.UploadVector<int>([2, 0]);
        gpu.WriteKvCache(oddRows, oddRows, oddSlots, oddCache, oddCache);
        Assert.Equal([4f, 5, 6, 0, 0, 0, 1, 2, 3, 0, 0, 0], oddCache.ToArray<float>());
        _ = seed;
    }

    /// <summary>
    /// Timings at Llama-3-8B attention shapes (32 query heads, 8 KV heads, head dim 128), printed, not asserted.
    /// Reference points on an H200 (GPU.md): HF's whole bf16 decoder layer, prefill 2048 1.79 ms, decode 64 × 1024
    /// 1.40 ms; the old per-sequence attention kernel made the whole fp32 layer 38 ms and 13 ms.
    /// </summary>
    [GpuFact]
    public void PagedAttentionTimingsAtLlama3_8BShapes()
    {
        var shape = new AttentionShape(32, 8, 128);
        Time("prefill 1 × 2048", [(2048, 2048)], shape, 10);
        Time("decode 64 × 1024", Enumerable.Repeat((1, 1024), 64).ToArray(), shape, 50);
        Time("decode 1 × 1024", [(1, 1024)], shape, 100);
        Time("decode 64 × 4096", Enumerable.Repeat((1, 4096), 64).ToArray(), shape, 20);
        Time("mixed 512-token prefill + 63 × 1024 decode", [(512, 512), .. Enumerable.Repeat((1, 1024), 63)], shape, 20);
        // bf16 caches: half the bytes of K and V to read (the GB/s line counts the bytes actually read).
        Time("decode 64 × 1024, bf16 caches", Enumerable.Repeat((1, 1024), 64).ToArray(), shape, 50, bf16Cache: true);
        Time("decode 64 × 4096, bf16 caches", Enumerable.Repeat((1, 4096), 64).ToArray(), shape, 20, bf16Cache: true);
        Time("mixed 512-token prefill + 63 × 1024 decode, bf16 caches", [(512, 512), .. Enumerable.Repeat((1, 1024), 63)], shape, 20, bf16Cache: true);
    }

    private void Time(string name, (int Query, int Context)[] specs, AttentionShape shape, int iterations, bool bf16Cache = false)
    {
        var gpu = devices.Gpu;
        var random = new Random(1);
        var layout = PagedLayout.Create(random, specs, BlockSize, spareBlocks: 0);
        int tokens = layout.QueryStarts[^1], cacheRows = layout.TotalBlocks * BlockSize;
        var pattern = Compare.Floats(random, 1 << 20);
        float[] Fill(long count)
        {
            var data = new float[count];
            for (long i = 0; i < count; i += pattern.Length)
            {
                Array.Copy(pattern, 0, data, i, Math.Min(pattern.Length, count - i));
            }

            return data;
        }

        using var query = gpu.UploadNew<float>(Fill((long)tokens * shape.QueryWidth), tokens, shape.QueryWidth);
        using var keys = UploadCache(gpu, Fill((long)cacheRows * shape.KvWidth), cacheRows, shape.KvWidth, bf16Cache);
        using var values = UploadCache(gpu, Fill((long)cacheRows * shape.KvWidth), cacheRows, shape.KvWidth, bf16Cache);
        using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var batch = layout.Upload(gpu, specs);
        for (int i = 0; i < 3; i++)
        {
            gpu.PagedAttention(query, keys, values, batch, shape, result);
        }

        gpu.Synchronize();
        float milliseconds = gpu.MeasureMilliseconds(() =>
        {
            for (int i = 0; i < iterations; i++)
            {
                gpu.PagedAttention(query, keys, values, batch, shape, result);
            }
        }) / iterations;
        var check = result.ToArray<float>();
        Assert.All(check.Take(4096), value => Assert.True(float.IsFinite(value)));

        // Bytes of K and V each sequence reads once per KV head group, and the multiply-adds of QKᵀ and P·V.
        double bytes = specs.Sum(s => (double)s.Context) * shape.KvWidth * (bf16Cache ? sizeof(ushort) : sizeof(float)) * 2;
        double flops = specs.Sum(s => Enumerable.Range(0, s.Query).Sum(i => (double)(s.Context - s.Query + i + 1))) * shape.Heads * shape.HeadDim * 4;
        string line = $"TIMING PagedAttention {name} (32/8 heads × 128): {milliseconds * 1000:F1} µs, "
            + $"{bytes / (milliseconds * 1e-3) / 1e9:F0} GB/s of KV, {flops / (milliseconds * 1e-3) / 1e12:F2} TFLOP/s; {gpu.LastAttentionPath}";
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    private static float[] Reference(float[] q, float[] keyCache, float[] valueCache, PagedLayout layout, AttentionShape shape)
    {
        int heads = shape.Heads, headDim = shape.HeadDim, group = shape.GroupSize;
        var result = new float[q.Length];
        double scale = 1 / Math.Sqrt(headDim);
        for (int s = 0; s < layout.ContextLengths.Length; s++)
        {
            int end = layout.QueryStarts[s + 1], context = layout.ContextLengths[s];
            for (int row = layout.QueryStarts[s]; row < end; row++)
            {
                int position = context - (end - row);
                int first = shape.SlidingWindow is { } window ? Math.Max(0, position - window + 1) : 0;
                for (int h = 0; h < heads; h++)
                {
                    int kvHead = h / group;
                    var scores = new double[position + 1 - first];
                    for (int j = first; j <= position; j++)
                    {
                        int slot = layout.Slot(s, j);
                        double dot = 0;
                        for (int d = 0; d < headDim; d++)
                        {
                            dot += (double)q[(row * heads + h) * headDim + d] * keyCache[slot * shape.KvWidth + kvHead * headDim + d];
                        }

                        scores[j - first] = dot * scale;
                    }

                    double top = scores.Max(), sum = 0;
                    for (int i = 0; i < scores.Length; i++)
                    {
                        scores[i] = Math.Exp(scores[i] - top);
                        sum += scores[i];
                    }

                    for (int d = 0; d < headDim; d++)
                    {
                        double value = 0;
                        for (int j = first; j <= position; j++)
                        {
                            value += scores[j - first] * valueCache[layout.Slot(s, j) * shape.KvWidth + kvHead * headDim + d];
                        }

                        result[(row * heads + h) * headDim + d] = (float)(value / sum);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Sequences laid out in a pool of cache blocks handed out in random order (vLLM's block tables).</summary>
    internal sealed record PagedLayout(int[] QueryStarts, int[] ContextLengths, int[] BlockTables, int MaxBlocks, int TotalBlocks, int BlockSize)
    {
        public static PagedLayout Create(Random random, (int Query, int Context)[] specs, int blockSize, int spareBlocks)
        {
            var needed = specs.Select(s => (s.Context + blockSize - 1) / blockSize).ToArray();
            int total = needed.Sum() + spareBlocks, maxBlocks = Math.Max(1, needed.Max() + 1);
            var pool = Enumerable.Range(0, total).OrderBy(_ => random.Next()).ToArray();
            var tables = Enumerable.Repeat(-1, specs.Length * maxBlocks).ToArray();
            int next = 0;
            for (int s = 0; s < specs.Length; s++)
            {
                for (int b = 0; b < needed[s]; b++)
                {
                    tables[s * maxBlocks + b] = pool[next++];
                }
            }

            var starts = new int[specs.Length + 1];
            for (int s = 0; s < specs.Length; s++)
            {
                Debug.Assert(specs[s].Query <= specs[s].Context);
                starts[s + 1] = starts[s] + specs[s].Query;
            }

            return new PagedLayout(starts, specs.Select(s => s.Context).ToArray(), tables, maxBlocks, total, blockSize);
        }

        public int Slot(int sequence, int position) => BlockTables[sequence * MaxBlocks + position / BlockSize] * BlockSize + position % BlockSize;

        /// <summary>The cache slot of every query row of this step (its own position's key and value).</summary>
        public int[] StepSlots((int Query, int Context)[] specs) =>
            specs.SelectMany((s, i) => Enumerable.Range(s.Context - s.Query, s.Query).Select(p => Slot(i, p))).ToArray();

        public AttentionBatch Upload(IComputeDevice device, (int Query, int Context)[] specs) => new(
            device.UploadVector<int>(QueryStarts),
            device.UploadVector<int>(ContextLengths),
            device.UploadNew<int>(BlockTables, specs.Length, MaxBlocks),
            BlockSize,
            specs.Length,
            specs.Max(s => s.Query),
            specs.Max(s => s.Context));
    }
}
