using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;
using PagedLayout = OrleansQuant.Gpu.Tests.Cuda.CudaPagedAttentionTests.PagedLayout;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The tensor-core prefill kernel (flash_prefill.cu, <see cref="CudaDevice.TensorCorePrefill"/>) against the CPU
/// device's fp32 PagedAttention on fresh random data: long and partial tiles, GQA groups 1/2/4/8, head dims 64 and 128,
/// varlen batches, chunked prefill, sliding windows, and mixed steps whose one-row sequences the decode kernel takes.
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

    [GpuTheory]
    // "queryLength:contextLength" per sequence.
    [InlineData("300:300", 32, 8, 128, null)] // one long sequence, not a multiple of 64: group 4 (Llama-3-8B)
    [InlineData("300:300", 8, 8, 128, null)] // group 1
    [InlineData("300:300", 16, 2, 128, null)] // group 8
    [InlineData("300:300", 32, 8, 64, null)] // head dim 64, group 4
    [InlineData("129:129", 8, 4, 64, null)] // head dim 64, group 2
    [InlineData("100:100,17:17", 16, 2, 64, null)] // head dim 64, group 8
    [InlineData("37:37,20:85,64:200,130:130,2:9", 32, 8, 128, null)] // several sequences of different lengths
    [InlineData("70:200", 32, 8, 128, null)] // chunked prefill: the last 70 positions of a 200-position context
    [InlineData("70:200", 8, 4, 64, 50)] // chunked, sliding window
    [InlineData("250:250", 32, 8, 128, 100)] // sliding window: key tiles before the window skipped
    [InlineData("37:37,1:300,20:85,1:1,64:200", 32, 8, 128, null)] // mixed step: the one-row sequences are the decode kernel's
    [InlineData("5:40,1:90,0:12,33:33", 8, 8, 64, 30)] // mixed, window, a sequence without queries, group 1
    public void TensorCorePrefillMatchesTheCpuDevice(string sequences, int heads, int kvHeads, int headDim, int? window)
    {
        string path = Run(sequences, new AttentionShape(heads, kvHeads, headDim, window), tensorCores: true, TensorCoreTolerance);
        Assert.Contains($"paged_prefill_mma_d{headDim}_g{heads / kvHeads}[", path);
        // With several sequences the decode kernel is launched after the prefill one and takes the one-row sequences
        // (if any: the device does not look at the lengths on the host); one sequence needs no decode pass.
        bool decodes = sequences.Split(',').Length > 1;
        Assert.Equal(decodes, path.Contains("paged_decode_d", StringComparison.Ordinal));
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

    /// <summary>Both prefill kernels at Llama-3-8B attention shapes, timed in the same run: printed, not asserted.</summary>
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
            using var keys = gpu.UploadNew<float>(Compare.Floats(random, cacheRows * shape.KvWidth), cacheRows, shape.KvWidth);
            using var values = gpu.UploadNew<float>(Compare.Floats(random, cacheRows * shape.KvWidth), cacheRows, shape.KvWidth);
            using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
            using var batch = layout.Upload(gpu, specs);
            double flops = Enumerable.Range(1, tokens).Sum(i => (double)i) * shape.Heads * shape.HeadDim * 4;
            var milliseconds = new Dictionary<bool, float>();
            try
            {
                foreach (bool tensorCores in new[] { false, true })
                {
                    gpu.TensorCorePrefill = tensorCores;
                    gpu.PagedAttention(query, keys, values, batch, shape, result);
                    gpu.Synchronize();
                    int iterations = tensorCores ? 20 : 5;
                    milliseconds[tensorCores] = gpu.MeasureMilliseconds(() =>
                    {
                        for (int i = 0; i < iterations; i++)
                        {
                            gpu.PagedAttention(query, keys, values, batch, shape, result);
                        }
                    }) / iterations;
                    string line = $"TIMING prefill 1 × {tokens} (32/8 heads × 128): {milliseconds[tensorCores] * 1000:F1} µs, "
                        + $"{flops / (milliseconds[tensorCores] * 1e-3) / 1e12:F1} TFLOP/s; {gpu.LastAttentionPath}";
                    output.WriteLine(line);
                    Console.WriteLine(line);
                }
            }
            finally
            {
                gpu.TensorCorePrefill = true;
            }

            string ratio = $"TIMING prefill 1 × {tokens}: tensor cores {milliseconds[false] / milliseconds[true]:F1}× the fp32 kernel";
            output.WriteLine(ratio);
            Console.WriteLine(ratio);
        }
    }

    private string Run(string sequences, AttentionShape shape, bool tensorCores, double tolerance)
    {
        var random = Compare.Fresh(out int seed);
        var specs = sequences.Split(',').Select(p => p.Split(':')).Select(p => (Query: int.Parse(p[0]), Context: int.Parse(p[1]))).ToArray();
        var layout = PagedLayout.Create(random, specs, BlockSize, spareBlocks: 5);
        int tokens = layout.QueryStarts[^1], cacheRows = layout.TotalBlocks * BlockSize;
        var q = Compare.Floats(random, tokens * shape.QueryWidth, 2f);
        var keyCache = Compare.Floats(random, cacheRows * shape.KvWidth, 2f);
        var valueCache = Compare.Floats(random, cacheRows * shape.KvWidth);

        var cpu = devices.Cpu;
        using var cpuQuery = cpu.UploadNew<float>(q, tokens, shape.QueryWidth);
        using var cpuKeys = cpu.UploadNew<float>(keyCache, cacheRows, shape.KvWidth);
        using var cpuValues = cpu.UploadNew<float>(valueCache, cacheRows, shape.KvWidth);
        using var cpuResult = cpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var cpuBatch = layout.Upload(cpu, specs);
        cpu.PagedAttention(cpuQuery, cpuKeys, cpuValues, cpuBatch, shape, cpuResult);
        var expected = cpuResult.ToArray<float>();

        var gpu = devices.Gpu;
        using var query = gpu.UploadNew<float>(q, tokens, shape.QueryWidth);
        using var keys = gpu.UploadNew<float>(keyCache, cacheRows, shape.KvWidth);
        using var values = gpu.UploadNew<float>(valueCache, cacheRows, shape.KvWidth);
        using var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth);
        using var batch = layout.Upload(gpu, specs);
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
        output.WriteLine($"{sequences} {shape}: {path}, worst relative error {Worst(expected, actual):E2}");
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
