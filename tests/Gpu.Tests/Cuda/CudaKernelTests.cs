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
    public void RopeWithDevicePositionsMatchesTheReference()
    {
        var random = Compare.Fresh(out int seed);
        int tokens = 29, heads = 4, headDim = 64, half = headDim / 2;
        var x = Compare.Floats(random, tokens * heads * headDim);
        var positions = Enumerable.Range(0, tokens).Select(_ => random.Next(0, 4096)).ToArray();
        var frequencies = Enumerable.Range(0, half).Select(i => (float)(1 / Math.Pow(10000, 2.0 * i / headDim))).ToArray();
        // rotate_half with angles rounded to float32 as transformers computes them (what the host-span version matched).
        var expected = (float[])x.Clone();
        for (int t = 0; t < tokens; t++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < half; i++)
                {
                    double angle = (float)positions[t] * frequencies[i];
                    int at = (t * heads + h) * headDim + i;
                    double first = x[at], second = x[at + half];
                    expected[at] = (float)(first * Math.Cos(angle) - second * Math.Sin(angle));
                    expected[at + half] = (float)(second * Math.Cos(angle) + first * Math.Sin(angle));
                }
            }
        }

        var gpu = devices.Gpu;
        using var data = gpu.UploadNew<float>(x, tokens, heads * headDim);
        using var inverse = gpu.UploadVector<float>(frequencies);
        using var devicePositions = gpu.UploadVector<int>(positions);
        gpu.ApplyRope(data, heads, headDim, devicePositions, inverse);
        Compare.Close(expected, data.ToArray<float>(), Tolerance, $"ApplyRope (seed {seed})");
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
    public void EmbedWithDeviceIdsAndCopyRowsMoveExactlyTheRightRows()
    {
        var random = Compare.Fresh(out int seed);
        int vocabulary = 258, width = 64;
        var table = Compare.Floats(random, vocabulary * width);
        int[] ids = [0, 257, 5, 5, 100, 1];
        var gpu = devices.Gpu;
        using var t = gpu.UploadNew<float>(table, vocabulary, width);
        using var deviceIds = gpu.UploadVector<int>(ids);
        using var embedded = gpu.Allocate(TensorType.Float32, ids.Length, width);
        using var copy = gpu.Allocate(TensorType.Float32, ids.Length + 4, width);
        gpu.Embed(deviceIds, t, embedded);
        gpu.CopyRows(embedded, 1, copy, 3, ids.Length - 1);
        var expected = new float[(ids.Length + 4) * width];
        for (int i = 1; i < ids.Length; i++)
        {
            Array.Copy(table, ids[i] * width, expected, (i + 2) * width, width);
        }

        Assert.Equal(expected, copy.ToArray<float>());

        // An id outside the vocabulary cannot throw without a host read: its row comes out NaN, the others exact.
        using var bad = gpu.UploadVector<int>([3, vocabulary, -1]);
        using var badRows = gpu.Allocate(TensorType.Float32, 3, width);
        gpu.Embed(bad, t, badRows);
        var rows = badRows.ToArray<float>();
        Assert.Equal(table.AsSpan(3 * width, width).ToArray(), rows.AsSpan(0, width).ToArray());
        Assert.All(rows.Skip(width), value => Assert.True(float.IsNaN(value)));
        Assert.Throws<ArgumentException>(() => gpu.Embed(t, t, badRows)); // ids must be Int32 [1, T]
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
