using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>Each float kernel on the GPU against the CPU device on fresh random inputs, within 1e-4 relative.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaKernelTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const double Tolerance = 1e-4;

    [GpuTheory]
    [InlineData(1, 64, 64, false)]
    [InlineData(33, 160, 64, true)]
    [InlineData(257, 512, 1536, true)]
    public void MatMulMatchesTheCpu(int tokens, int outputs, int inner, bool bias)
    {
        var random = Compare.Fresh(out int seed);
        var x = Compare.Floats(random, tokens * inner);
        var w = Compare.Floats(random, outputs * inner, 0.1f);
        var b = bias ? Compare.Floats(random, outputs) : null;
        float[] Run(IComputeDevice device)
        {
            using var input = device.UploadNew<float>(x, tokens, inner);
            using var weight = device.UploadNew<float>(w, outputs, inner);
            using var bt = b is null ? null : device.UploadVector<float>(b);
            using var output = device.Allocate(TensorType.Float32, tokens, outputs);
            device.MatMul(input, weight, bt, output);
            return output.ToArray<float>();
        }

        Compare.Close(Run(devices.Cpu), Run(devices.Gpu), Tolerance, $"MatMul (seed {seed}, path {devices.Gpu.LastMatMulPath})");
        output.WriteLine($"fp32 GEMM T={tokens} N={outputs} K={inner}: {devices.Gpu.LastMatMulPath}");
    }

    [GpuFact]
    public void RmsNormMatchesTheCpu()
    {
        var random = Compare.Fresh(out int seed);
        int tokens = 45, width = 1000;
        var x = Compare.Floats(random, tokens * width, 4f);
        var gain = Compare.Floats(random, width);
        float[] Run(IComputeDevice device)
        {
            using var input = device.UploadNew<float>(x, tokens, width);
            using var weight = device.UploadVector<float>(gain);
            using var output = device.Allocate(TensorType.Float32, tokens, width);
            device.RmsNorm(input, weight, 1e-6f, output);
            return output.ToArray<float>();
        }

        Compare.Close(Run(devices.Cpu), Run(devices.Gpu), Tolerance, $"RmsNorm (seed {seed})");
    }

    [GpuFact]
    public void RopeMatchesTheCpu()
    {
        var random = Compare.Fresh(out int seed);
        int tokens = 29, heads = 4, headDim = 64;
        var x = Compare.Floats(random, tokens * heads * headDim);
        var positions = Enumerable.Range(0, tokens).Select(_ => random.Next(0, 4096)).ToArray();
        var frequencies = Enumerable.Range(0, headDim / 2).Select(i => (float)(1 / Math.Pow(10000, 2.0 * i / headDim))).ToArray();
        float[] Run(IComputeDevice device)
        {
            using var data = device.UploadNew<float>(x, tokens, heads * headDim);
            using var inverse = device.UploadVector<float>(frequencies);
            device.ApplyRope(data, heads, headDim, positions, inverse);
            return data.ToArray<float>();
        }

        Compare.Close(Run(devices.Cpu), Run(devices.Gpu), Tolerance, $"ApplyRope (seed {seed})");
    }

    [GpuTheory]
    [InlineData(17, 17, 4, 2, 16, null)] // prefill, GQA 2:1
    [InlineData(1, 300, 8, 4, 64, null)] // decode over more keys than one block step
    [InlineData(40, 300, 8, 8, 128, null)] // a chunk after cached history, no grouping
    [InlineData(30, 200, 4, 1, 64, 50)] // sliding window, multi-query
    public void AttentionMatchesTheCpu(int queryCount, int kvLength, int heads, int kvHeads, int headDim, int? window)
    {
        var random = Compare.Fresh(out int seed);
        var shape = new AttentionShape(heads, kvHeads, headDim, window);
        int queryRow = 3, queryRows = queryRow + queryCount + 2;
        var q = Compare.Floats(random, queryRows * shape.QueryWidth, 2f);
        var k = Compare.Floats(random, (kvLength + 5) * shape.KvWidth, 2f);
        var v = Compare.Floats(random, (kvLength + 5) * shape.KvWidth);
        float[] Run(IComputeDevice device)
        {
            using var query = device.UploadNew<float>(q, queryRows, shape.QueryWidth);
            using var keys = device.UploadNew<float>(k, kvLength + 5, shape.KvWidth);
            using var values = device.UploadNew<float>(v, kvLength + 5, shape.KvWidth);
            using var output = device.Allocate(TensorType.Float32, queryRows, shape.QueryWidth);
            device.Attention(query, queryRow, queryCount, keys, values, kvLength, shape, output);
            return output.ToArray<float>();
        }

        Compare.Close(Run(devices.Cpu), Run(devices.Gpu), Tolerance, $"Attention (seed {seed})");
    }

    [GpuFact]
    public void SiluMulIntoTheGateAndAddInPlaceMatchTheCpu()
    {
        var random = Compare.Fresh(out int seed);
        int tokens = 31, width = 1536;
        var gate = Compare.Floats(random, tokens * width, 6f);
        var up = Compare.Floats(random, tokens * width);
        var residual = Compare.Floats(random, tokens * width);
        float[] Run(IComputeDevice device)
        {
            using var g = device.UploadNew<float>(gate, tokens, width);
            using var u = device.UploadNew<float>(up, tokens, width);
            using var r = device.UploadNew<float>(residual, tokens, width);
            device.SiluMul(g, u, g);
            device.AddInPlace(r, g);
            return r.ToArray<float>();
        }

        Compare.Close(Run(devices.Cpu), Run(devices.Gpu), Tolerance, $"SiluMul + AddInPlace (seed {seed})");
    }

    [GpuFact]
    public void EmbedAndCopyRowsMoveExactlyTheRightRows()
    {
        var random = Compare.Fresh(out int seed);
        int vocabulary = 258, width = 64;
        var table = Compare.Floats(random, vocabulary * width);
        int[] ids = [0, 257, 5, 5, 100, 1];
        float[] Run(IComputeDevice device)
        {
            using var t = device.UploadNew<float>(table, vocabulary, width);
            using var embedded = device.Allocate(TensorType.Float32, ids.Length, width);
            using var copy = device.Allocate(TensorType.Float32, ids.Length + 4, width);
            device.Embed(ids, t, embedded);
            device.CopyRows(embedded, 1, copy, 3, ids.Length - 1);
            return copy.ToArray<float>();
        }

        Assert.Equal(Run(devices.Cpu), Run(devices.Gpu));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            using var t = devices.Gpu.UploadNew<float>(table, vocabulary, width);
            using var embedded = devices.Gpu.Allocate(TensorType.Float32, 1, width);
            devices.Gpu.Embed([vocabulary], t, embedded);
        });
        _ = seed;
    }

    [GpuFact]
    public void ATensorDisposedWhileItsKernelsAreQueuedStillFeedsThem()
    {
        var gpu = devices.Gpu;
        int tokens = 512, width = 4096;
        var x = Enumerable.Repeat(1f, tokens * width).ToArray();
        using var target = gpu.Allocate(TensorType.Float32, tokens, width);
        for (int i = 0; i < 8; i++)
        {
            // Freed in stream order right after the add is queued: the add still reads the ones.
            using var addend = gpu.UploadNew<float>(x, tokens, width);
            gpu.AddInPlace(target, addend);
        }

        Assert.All(target.ToArray<float>(), value => Assert.Equal(8f, value));
        Assert.Equal(DeviceKind.Cuda, gpu.Info.Kind);
        Assert.True(gpu.Info.FreeMemoryBytes > 0 && gpu.Info.FreeMemoryBytes <= gpu.Info.TotalMemoryBytes);
    }
}
