using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// The W8A8 kernels against plain loops written from their definitions, equal to the bit: per-token quantization
/// follows the reference's float32 formula, and the int8 GEMM's sums are exact, on every SIMD path the machine has.
/// </summary>
public sealed class Int8KernelTests : IDisposable
{
    private readonly CpuDevice _device = new();
    private readonly Random _random = new(42);

    [Theory]
    [InlineData(3, 45)] // 45 = one 32-wide vector pass and a scalar tail
    [InlineData(70, 512)] // enough work for the parallel path
    public void QuantizePerTokenMatchesTheReferenceFormula(int tokens, int width)
    {
        float[] x = Values(tokens * width, 4f);
        Array.Clear(x, width, width); // a row of zeros
        // A row whose largest magnitude is 127 has scale exactly 1, so these are exact .5 ties, in the vector part and the tail.
        float[] ties = [127f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, -126.5f, 126.5f, 4.5f, -3.5f];
        for (int k = 0; k < width; k++)
        {
            x[2 * width + k] = ties[k % ties.Length];
        }

        var quantized = _device.Allocate(TensorType.Int8, tokens, width);
        var scales = _device.Allocate(TensorType.Float32, tokens, 1);
        _device.QuantizePerToken(Upload(x, tokens, width), quantized, scales);
        var q = DownloadInt8(quantized);
        var s = Download(scales);

        for (int t = 0; t < tokens; t++)
        {
            float amax = 0;
            for (int k = 0; k < width; k++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[t * width + k]));
            }

            float scale = MathF.Max(amax / 127f, 1e-8f);
            Assert.Equal(scale, s[t]);
            for (int k = 0; k < width; k++)
            {
                var expected = (sbyte)Math.Clamp(MathF.Round(x[t * width + k] / scale, MidpointRounding.ToEven), -127f, 127f);
                Assert.Equal(expected, q[t * width + k]);
            }
        }

        Assert.Equal(1e-8f, s[1]);
        Assert.All(q.AsSpan(width, width).ToArray(), code => Assert.Equal(0, code));
        Assert.Equal([127, 0, 2, 2, 0, -2, -2, 4, -126, 126, 4, -4], q.AsSpan(2 * width, ties.Length).ToArray().Select(c => (int)c));
    }

    [Theory]
    [InlineData(1, 16, 8, true)]
    [InlineData(3, 37, 5, false)] // K not a multiple of any vector width, N not a multiple of 4
    [InlineData(70, 512, 96, true)] // several token tiles, parallel path
    [InlineData(5, 1536, 64, false)]
    public void MatMulInt8SumsExactlyOnEveryPath(int tokens, int inner, int outputs, bool withBias)
    {
        sbyte[] q = Codes(tokens * inner), w = Codes(outputs * inner);
        // Extremes in the first row of each: the largest sums, and -128 (legal in checkpoints) on both sides.
        Array.Fill(q, (sbyte)-128, 0, inner);
        Array.Fill(w, (sbyte)-128, 0, inner);
        float[] tokenScales = Values(tokens, 0.05f).Select(MathF.Abs).ToArray(), weightScales = Values(outputs, 0.01f).Select(MathF.Abs).ToArray();
        float[]? bias = withBias ? Values(outputs, 1f) : null;

        long[] sums = new long[tokens * outputs];
        for (int t = 0; t < tokens; t++)
        {
            for (int n = 0; n < outputs; n++)
            {
                for (int k = 0; k < inner; k++)
                {
                    sums[t * outputs + n] += q[t * inner + k] * w[n * inner + k];
                }
            }
        }

        float[] ones = Enumerable.Repeat(1f, Math.Max(tokens, outputs)).ToArray();
        float[]? scalar = null;
        foreach (var kernel in CpuDevice.SupportedInt8Kernels)
        {
            using var device = new CpuDevice { Int8KernelInUse = kernel };
            // Unit scales and no bias: the output is the int32 sum itself, exact as a float below 2²⁴ (all but the
            // extreme row at K = 1536, which is compared after the same rounding).
            var raw = MatMulInt8(device, q, w, tokens, inner, outputs, ones[..tokens], ones[..outputs], null);
            Assert.Equal(sums.Select(sum => (float)sum), raw);

            var y = MatMulInt8(device, q, w, tokens, inner, outputs, tokenScales, weightScales, bias);
            for (int t = 0; t < tokens; t++)
            {
                for (int n = 0; n < outputs; n++)
                {
                    float expected = (int)sums[t * outputs + n] * tokenScales[t] * weightScales[n];
                    if (bias is not null)
                    {
                        expected += bias[n];
                    }

                    Assert.Equal(expected, y[t * outputs + n]);
                }
            }

            scalar ??= y;
            Assert.Equal(scalar, y);
        }
    }

    [Fact]
    public void TheNamedPathIsTheBestSupportedOne()
    {
        Assert.Equal(CpuDevice.Int8Kernel.Scalar, CpuDevice.SupportedInt8Kernels[0]);
        Assert.Equal(CpuDevice.Int8Path, CpuDevice.Name(CpuDevice.SupportedInt8Kernels[^1]));
        Assert.Equal(CpuDevice.BestInt8Kernel, _device.Int8KernelInUse);
    }

    [Fact]
    public void ShapeAndTypeMismatchesNameTheKernel()
    {
        var q = _device.Allocate(TensorType.Int8, 2, 4);
        var s = _device.Allocate(TensorType.Float32, 2, 1);
        var scales = _device.Allocate(TensorType.Float32, 1, 3);
        var output = _device.Allocate(TensorType.Float32, 2, 3);

        var error = Assert.Throws<ArgumentException>(() => _device.MatMulInt8(q, s, _device.Allocate(TensorType.Int8, 3, 5), scales, null, output));
        Assert.Contains("MatMulInt8 weight: expected [3, 4]", error.Message);
        var w = _device.Allocate(TensorType.Int8, 3, 4);
        error = Assert.Throws<ArgumentException>(() => _device.MatMulInt8(q, s, w, _device.Allocate(TensorType.Float32, 3, 1), null, output));
        Assert.Contains("MatMulInt8 weight scales: expected [1, 3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => _device.MatMulInt8(q, _device.Allocate(TensorType.Float32, 1, 2), w, scales, null, output));
        Assert.Contains("MatMulInt8 token scales: expected [2, 1]", error.Message);
        error = Assert.Throws<ArgumentException>(() => _device.MatMulInt8(q, s, _device.Allocate(TensorType.Float32, 3, 4), scales, null, output));
        Assert.Contains("MatMulInt8 weight: expected Int8", error.Message);

        var x = _device.Allocate(TensorType.Float32, 2, 4);
        error = Assert.Throws<ArgumentException>(() => _device.QuantizePerToken(x, q, _device.Allocate(TensorType.Float32, 1, 2)));
        Assert.Contains("QuantizePerToken scales: expected [2, 1]", error.Message);
        error = Assert.Throws<ArgumentException>(() => _device.QuantizePerToken(x, _device.Allocate(TensorType.Float32, 2, 4), s));
        Assert.Contains("QuantizePerToken quantized: expected Int8", error.Message);
    }

    /// <summary>
    /// The residual add fused into the linear rounds as the separate AddInPlace after it did, and a grouped call equals
    /// its projections' own calls: the contract the decoder layer's o_proj/down_proj and q/k/v, gate/up rely on.
    /// </summary>
    [Fact]
    public void AccumulatingAndGroupedCallsEqualTheSeparateOnes()
    {
        const int tokens = 37, inner = 96;
        int[] widths = [40, 12, 12];
        var q = Upload<sbyte>(TensorType.Int8, Codes(tokens * inner), tokens, inner);
        var tokenScales = Upload(Values(tokens, 0.05f).Select(s => MathF.Abs(s) + 1e-4f).ToArray(), tokens, 1);
        var projections = widths.Select((n, i) => new Int8Projection(Upload<sbyte>(TensorType.Int8, Codes(n * inner), n, inner),
            Upload(Values(n, 0.01f).Select(MathF.Abs).ToArray(), 1, n), i == 0 ? Upload(Values(n, 1f), 1, n) : null,
            Upload(Values(tokens * n, 3f), tokens, n), Accumulate: i != 2)).ToArray();
        var expected = projections.Select(p =>
        {
            var result = _device.Allocate(TensorType.Float32, tokens, p.Weight.Rows);
            _device.MatMulInt8(q, tokenScales, p.Weight, p.WeightScales, p.Bias, result);
            var sum = Download(p.Output);
            if (p.Accumulate)
            {
                var added = Download(result);
                for (int i = 0; i < sum.Length; i++)
                {
                    sum[i] += added[i];
                }

                return sum;
            }

            return Download(result);
        }).ToArray();

        ((IComputeDevice)_device).MatMulInt8(q, tokenScales, projections);
        for (int i = 0; i < widths.Length; i++)
        {
            Assert.Equal(expected[i], Download(projections[i].Output));
        }
    }

    private static float[] MatMulInt8(CpuDevice device, sbyte[] q, sbyte[] w, int tokens, int inner, int outputs,
        float[] tokenScales, float[] weightScales, float[]? bias)
    {
        DeviceTensor Put<T>(T[] values, TensorType type, int rows, int columns) where T : unmanaged
        {
            var tensor = device.Allocate(type, rows, columns);
            device.Upload<T>(values, tensor);
            return tensor;
        }

        var output = device.Allocate(TensorType.Float32, tokens, outputs);
        device.MatMulInt8(Put(q, TensorType.Int8, tokens, inner), Put(tokenScales, TensorType.Float32, tokens, 1),
            Put(w, TensorType.Int8, outputs, inner), Put(weightScales, TensorType.Float32, 1, outputs),
            bias is null ? null : Put(bias, TensorType.Float32, 1, outputs), output);
        var values = new float[output.Length];
        device.Download<float>(output, values);
        return values;
    }

    private DeviceTensor Upload(float[] values, int rows, int columns) => Upload(TensorType.Float32, values, rows, columns);

    private DeviceTensor Upload<T>(TensorType type, T[] values, int rows, int columns) where T : unmanaged
    {
        var tensor = _device.Allocate(type, rows, columns);
        _device.Upload<T>(values, tensor);
        return tensor;
    }

    private float[] Download(DeviceTensor tensor)
    {
        var values = new float[tensor.Length];
        _device.Download<float>(tensor, values);
        return values;
    }

    private sbyte[] DownloadInt8(DeviceTensor tensor)
    {
        var values = new sbyte[tensor.Length];
        _device.Download<sbyte>(tensor, values);
        return values;
    }

    private float[] Values(int count, float range) =>
        Enumerable.Range(0, count).Select(_ => (float)(_random.NextDouble() * 2 - 1) * range).ToArray();

    private sbyte[] Codes(int count) => Enumerable.Range(0, count).Select(_ => (sbyte)_random.Next(-128, 128)).ToArray();

    public void Dispose() => _device.Dispose();
}
