using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;
using PagedLayout = OrleansQuant.Gpu.Tests.Cuda.CudaPagedAttentionTests.PagedLayout;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The tensor-core prefill kernel (flash_prefill.cu, <see cref="CudaDevice.TensorCorePrefill"/>) against the CPU
/// device's fp32 PagedAttention on fresh random data: long and partial tiles, GQA groups 1/2/4/8, head dims 64 and 128,
/// varlen batches, chunked prefill, sliding windows, and mixed steps whose one-row sequences the decode kernel takes.
/// Each case also runs with BFloat16 caches (this step's rows rounded into them by WriteKvCache) against the CPU
/// device's fp32 PagedAttention on Float32 caches holding the same rounded values.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaTensorCorePrefillTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    // q, K, V and P are rounded to bf16 (relative error ≤ 2^-9) before their products; sums and softmax stay fp32.
    // A per-lane emulation of the kernel (bf16 rounding, mma fragments, ldmatrix.trans) on the inputs used here (q, K
    // ∈ U(−2, 2), V ∈ U(−1, 1)) against float64 attention gave a worst Compare.Close measure, |Δ| / (|expected| + rms),
    // of 1.2e-2 to 2.3e-2 over 10^4 to 10^5 outputs (max |Δ| ≈ 5e-3 at an output rms of 0.1 to 0.3); the tests here
    // check up to ~10^6, whose tail is somewhat further out. 5e-2 leaves that margin, and stays ~40× below what a wrong
    // fragment index, mask or rescale does (measured 2 to 4 by emulating such mistakes: errors of the output's own size).
    private const double TensorCoreTolerance = 5e-2;
    private const double Fp32Tolerance = 1e-4; // CudaPagedAttentionTests' tolerance for the fp32 kernels
    private const int BlockSize = 16;

    /// <summary>"queryLength:contextLength" per sequence, heads, KV heads, head dim, sliding window.</summary>
    public static TheoryData<string, int, int, int, int?> Cases() => new()
    {
        { "300:300", 32, 8, 128, null }, // one long sequence, not a multiple of 64: group 4 (Llama-3-8B)
        { "300:300", 8, 8, 128, null }, // group 1
        { "300:300", 16, 2, 128, null }, // group 8
        { "300:300", 32, 8, 64, null }, // head dim 64, group 4
        { "129:129", 8, 4, 64, null }, // head dim 64, group 2
        { "100:100,17:17", 16, 2, 64, null }, // head dim 64, group 8
        { "37:37,20:85,64:200,130:130,2:9", 32, 8, 128, null }, // several sequences of different lengths
        { "70:200", 32, 8, 128, null }, // chunked prefill: the last 70 positions of a 200-position context
        { "70:200", 8, 4, 64, 50 }, // chunked, sliding window
        { "250:250", 32, 8, 128, 100 }, // sliding window: key tiles before the window skipped
        { "37:37,1:300,20:85,1:1,64:200", 32, 8, 128, null }, // mixed step: the one-row sequences are the decode kernel's
        { "5:40,1:90,0:12,33:33", 8, 8, 64, 30 }, // mixed, window, a sequence without queries, group 1
    };

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void TensorCorePrefillMatchesTheCpuDevice(string sequences, int heads, int kvHeads, int headDim, int? window) =>
        CheckTensorCores(sequences, heads, kvHeads, headDim, window, bf16Cache: false);

    /// <summary>
    /// BFloat16 caches: the K and V rows go to shared memory as they are (no rounding left to do), so the kernel sees
    /// exactly what it sees with fp32 caches holding the rounded values; the tolerance is the tensor-core one.
    /// </summary>
    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void TensorCorePrefillWithBFloat16CachesMatchesTheCpuDevice(string sequences, int heads, int kvHeads, int headDim, int? window) =>
        CheckTensorCores(sequences, heads, kvHeads, headDim, window, bf16Cache: true);

    private void CheckTensorCores(string sequences, int heads, int kvHeads, int headDim, int? window, bool bf16Cache)
    {
        string path = Run(sequences, new AttentionShape(heads, kvHeads, headDim, window), tensorCores: true, TensorCoreTolerance, bf16Cache);
        string cache = bf16Cache ? "bf16_" : "";
        Assert.Contains($"paged_prefill_mma_{cache}d{headDim}_g{heads / kvHeads}[", path);
        // With several sequences the decode kernel is launched after the prefill one and takes the one-row sequences
        // (if any: the device does not look at the lengths on the host); one sequence needs no decode pass.
        bool decodes = sequences.Split(',').Length > 1;
        Assert.Equal(decodes, path.Contains($"paged_decode_{cache}d", StringComparison.Ordinal));
        Assert.Equal(bf16Cache, path.Contains("bf16", StringComparison.Ordinal));
    }

    [GpuTheory]
    [InlineData("37:37,1:300,20:85,1:1,64:200", 32, 8, 128, null)]
    [InlineData("70:200", 8, 4, 64, 50)]
    [InlineData("300:300", 16, 2, 128, null)]
    public void Fp32PrefillStillMatchesTheCpuDevice(string sequences, int heads, int kvHeads, int headDim, int? window)
    {
        string path = Run(sequences, new AttentionShape(heads, kvHeads, headDim, window), tensorCores: false, Fp32Tolerance);
        Assert.Contains($"paged_prefill_d{headDim}_g{heads / kvHeads}[", path);
        Assert.DoesNotContain("mma", path);
    }

    /// <summary>
    /// Both prefill kernels at Llama-3-8B attention shapes, timed in the same run, and the tensor-core one with bf16
    /// caches: printed, not asserted.
    /// </summary>
    [GpuFact]
    public void PrefillTimingsAtLlama3_8BShapes()
    {
        var gpu = devices.Gpu;
        var shape = new AttentionShape(32, 8, 128);
        foreach (int tokens in new[] { 512, 2048, 4096 })
        {
            var specs = new[] { (Query: tokens, Context: tokens) };
            var layout = PagedLayout.Create(new Random(1), specs, BlockSize, spareBlocks: 0);
            int cacheRows = layout.TotalBlocks * BlockSize;
            var random = new Random(2);
            using var query = gpu.UploadNew<float>(Compare.Floats(random, tokens * shape.QueryWidth), tokens, shape.QueryWidth);
            var keyData = Compare.Floats(random, cacheRows * shape.KvWidth);
            var valueData = Compare.Floats(random, cacheRows * shape.KvWidth);
            using var keys = gpu.UploadNew<float>(keyData, cacheRows, shape.KvWidth);
            using var values = gpu.UploadNew<float>(valueData, cacheRows, shape.KvWidth);
            using var bf16Keys = CudaPagedAttentionTests.UploadCache(gpu, keyData, cacheRows, shape.KvWidth, bf16: true);
            using var bf16Values = CudaPagedAttentionTests.UploadCache(gpu, valueData, cacheRows, shape.KvWidth, bf16: true);
            using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
            using var batch = layout.Upload(gpu, specs);
            double flops = Enumerable.Range(1, tokens).Sum(i => (double)i) * shape.Heads * shape.HeadDim * 4;
            var milliseconds = new Dictionary<(bool TensorCores, bool Bf16), float>();
            try
            {
                foreach (var (tensorCores, bf16) in new[] { (false, false), (true, false), (true, true) })
                {
                    var (k, v) = bf16 ? (bf16Keys, bf16Values) : (keys, values);
                    gpu.TensorCorePrefill = tensorCores;
                    gpu.PagedAttention(query, k, v, batch, shape, result);
                    gpu.Synchronize();
                    int iterations = tensorCores ? 20 : 5;
                    float ms = milliseconds[(tensorCores, bf16)] = gpu.MeasureMilliseconds(() =>
                    {
                        for (int i = 0; i < iterations; i++)
                        {
                            gpu.PagedAttention(query, k, v, batch, shape, result);
                        }
                    }) / iterations;
                    string line = $"TIMING prefill 1 × {tokens} (32/8 heads × 128{(bf16 ? ", bf16 caches" : "")}): {ms * 1000:F1} µs, "
                        + $"{flops / (ms * 1e-3) / 1e12:F1} TFLOP/s; {gpu.LastAttentionPath}";
                    output.WriteLine(line);
                    Console.WriteLine(line);
                }
            }
            finally
            {
                gpu.TensorCorePrefill = true;
            }

            string ratio = $"TIMING prefill 1 × {tokens}: tensor cores {milliseconds[(false, false)] / milliseconds[(true, false)]:F1}× the fp32 kernel; "
                + $"bf16 caches {milliseconds[(true, false)] / milliseconds[(true, true)]:F2}× fp32 caches on tensor cores";
            output.WriteLine(ratio);
            Console.WriteLine(ratio);
        }
    }

    private string Run(string sequences, AttentionShape shape, bool tensorCores, double tolerance, bool bf16Cache = false)
    {
        var random = Compare.Fresh(out int seed);
        var specs = sequences.Split(',').Select(p => p.Split(':')).Select(p => (Query: int.Parse(p[0]), Context: int.Parse(p[1]))).ToArray();
        var layout = PagedLayout.Create(random, specs, BlockSize, spareBlocks: 5);
        int tokens = layout.QueryStarts[^1], cacheRows = layout.TotalBlocks * BlockSize;
        var q = Compare.Floats(random, tokens * shape.QueryWidth, 2f);
        var keyCache = Compare.Floats(random, cacheRows * shape.KvWidth, 2f);
        var valueCache = Compare.Floats(random, cacheRows * shape.KvWidth);

        // The reference: the CPU device's fp32 attention, on the rounded keys and values for bf16 caches (on Float32
        // caches, so that it needs nothing of the CPU device's own bf16 caches).
        var cpu = devices.Cpu;
        using var cpuQuery = cpu.UploadNew<float>(q, tokens, shape.QueryWidth);
        using var cpuKeys = cpu.UploadNew<float>(bf16Cache ? CudaPagedAttentionTests.Rounded(keyCache) : keyCache, cacheRows, shape.KvWidth);
        using var cpuValues = cpu.UploadNew<float>(bf16Cache ? CudaPagedAttentionTests.Rounded(valueCache) : valueCache, cacheRows, shape.KvWidth);
        using var cpuResult = cpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var cpuBatch = layout.Upload(cpu, specs);
        cpu.PagedAttention(cpuQuery, cpuKeys, cpuValues, cpuBatch, shape, cpuResult);
        var expected = cpuResult.ToArray<float>();

        var gpu = devices.Gpu;
        using var query = gpu.UploadNew<float>(q, tokens, shape.QueryWidth);
        using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var batch = layout.Upload(gpu, specs);
        DeviceTensor keys, values;
        if (bf16Cache)
        {
            // This step's rows written by WriteKvCache (rounding them) over garbage, the rest uploaded rounded.
            var slots = layout.StepSlots(specs);
            var stepKeys = new float[tokens * shape.KvWidth];
            var stepValues = new float[tokens * shape.KvWidth];
            var garbageKeys = (float[])keyCache.Clone();
            var garbageValues = (float[])valueCache.Clone();
            for (int t = 0; t < tokens; t++)
            {
                Array.Copy(keyCache, slots[t] * shape.KvWidth, stepKeys, t * shape.KvWidth, shape.KvWidth);
                Array.Copy(valueCache, slots[t] * shape.KvWidth, stepValues, t * shape.KvWidth, shape.KvWidth);
                Array.Fill(garbageKeys, 1e3f, slots[t] * shape.KvWidth, shape.KvWidth);
                Array.Fill(garbageValues, -1e3f, slots[t] * shape.KvWidth, shape.KvWidth);
            }

            keys = CudaPagedAttentionTests.UploadCache(gpu, garbageKeys, cacheRows, shape.KvWidth, bf16: true);
            values = CudaPagedAttentionTests.UploadCache(gpu, garbageValues, cacheRows, shape.KvWidth, bf16: true);
            using var newKeys = gpu.UploadNew<float>(stepKeys, tokens, shape.KvWidth);
            using var newValues = gpu.UploadNew<float>(stepValues, tokens, shape.KvWidth);
            using var slotTensor = gpu.UploadVector<int>(slots);
            gpu.WriteKvCache(newKeys, newValues, slotTensor, keys, values);
        }
        else
        {
            keys = gpu.UploadNew<float>(keyCache, cacheRows, shape.KvWidth);
            values = gpu.UploadNew<float>(valueCache, cacheRows, shape.KvWidth);
        }

        using var keysOwner = keys;
        using var valuesOwner = values;
        try
        {
            gpu.TensorCorePrefill = tensorCores;
            gpu.PagedAttention(query, keys, values, batch, shape, result);
        }
        finally
        {
            gpu.TensorCorePrefill = true;
        }

        string path = gpu.LastAttentionPath;
        var actual = result.ToArray<float>();
        output.WriteLine($"{sequences} {shape}{(bf16Cache ? ", bf16 caches" : "")}: {path}, worst relative error {Worst(expected, actual):E2}");
        Compare.Close(expected, actual, tolerance, $"PagedAttention {sequences} {shape} via {path} (seed {seed})");
        return path;
    }

    // The measure Compare.Close bounds, printed so that a run shows the margin, not only a pass.
    private static double Worst(float[] expected, float[] actual)
    {
        double rms = Math.Sqrt(expected.Sum(e => (double)e * e) / Math.Max(1, expected.Length)), worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]) / (Math.Abs(expected[i]) + rms + 1e-30));
        }

        return worst;
    }
}
