using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>Each CPU kernel against a plain double-precision loop written from its definition.</summary>
public sealed class CpuDeviceTests : IDisposable
{
    private readonly CpuDevice _device = new();
    private readonly Random _random = new(42);

    [Theory]
    [InlineData(1, 16, 8)]
    [InlineData(3, 37, 5)]
    [InlineData(130, 96, 70)] // several token and weight tiles, parallel path
    public void MatMulEqualsDotProductsWithBias(int tokens, int inner, int outputs)
    {
        float[] x = Values(tokens * inner), w = Values(outputs * inner), b = Values(outputs);
        var y = Run(tokens, outputs, (xt, yt) => _device.MatMul(xt, Upload(w, outputs, inner), Upload(b, 1, outputs), yt), x, inner);
        for (int t = 0; t < tokens; t++)
        {
            for (int n = 0; n < outputs; n++)
            {
                double expected = b[n];
                for (int k = 0; k < inner; k++)
                {
                    expected += (double)x[t * inner + k] * w[n * inner + k];
                }

                Assert.Equal(expected, y[t * outputs + n], 1e-4);
            }
        }
    }

    [Fact]
    public void RmsNormScalesEachRowToUnitRmsTimesGain()
    {
        const int rows = 3, width = 10;
        float[] x = Values(rows * width), gain = Values(width);
        var y = Run(rows, width, (xt, yt) => _device.RmsNorm(xt, Upload(gain, 1, width), 1e-5f, yt), x, width);
        for (int t = 0; t < rows; t++)
        {
            double meanSquare = Enumerable.Range(0, width).Sum(i => (double)x[t * width + i] * x[t * width + i]) / width;
            for (int i = 0; i < width; i++)
            {
                Assert.Equal(x[t * width + i] / Math.Sqrt(meanSquare + 1e-5) * gain[i], y[t * width + i], 1e-5);
            }
        }
    }

    [Fact]
    public void RopeRotatesTheTwoHalvesOfEachHead()
    {
        const int heads = 2, headDim = 8;
        int[] positions = [0, 3, 17];
        float[] x = Values(positions.Length * heads * headDim);
        float[] frequencies = [1f, 0.1f, 0.01f, 0.001f];
        var tensor = Upload(x, positions.Length, heads * headDim);
        _device.ApplyRope(tensor, heads, headDim, positions, Upload(frequencies, 1, headDim / 2));
        var y = Download(tensor);
        for (int t = 0; t < positions.Length; t++)
        {
            for (int h = 0; h < heads; h++)
            {
                int o = t * heads * headDim + h * headDim;
                for (int i = 0; i < headDim / 2; i++)
                {
                    double angle = positions[t] * (double)frequencies[i];
                    double a = x[o + i], b = x[o + i + headDim / 2];
                    Assert.Equal(a * Math.Cos(angle) - b * Math.Sin(angle), y[o + i], 1e-5);
                    Assert.Equal(b * Math.Cos(angle) + a * Math.Sin(angle), y[o + i + headDim / 2], 1e-5);
                }
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(3)]
    public void AttentionIsCausalSoftmaxOverGroupedKeys(int? window)
    {
        var shape = new AttentionShape(Heads: 4, KvHeads: 2, HeadDim: 6, SlidingWindow: window);
        const int past = 5, queries = 3, length = past + queries;
        float[] q = Values(queries * shape.QueryWidth), k = Values(length * shape.KvWidth), v = Values(length * shape.KvWidth);
        var output = _device.Allocate(TensorType.Float32, queries, shape.QueryWidth);
        _device.Attention(Upload(q, queries, shape.QueryWidth), 0, queries, Upload(k, length, shape.KvWidth),
            Upload(v, length, shape.KvWidth), length, shape, output);
        var y = Download(output);
        for (int i = 0; i < queries; i++)
        {
            int position = past + i, first = window is int w ? Math.Max(0, position - w + 1) : 0;
            for (int h = 0; h < shape.Heads; h++)
            {
                int g = h / shape.GroupSize;
                var scores = Enumerable.Range(first, position - first + 1).Select(j =>
                    Enumerable.Range(0, shape.HeadDim).Sum(d => (double)q[i * shape.QueryWidth + h * shape.HeadDim + d] * k[j * shape.KvWidth + g * shape.HeadDim + d])
                    / Math.Sqrt(shape.HeadDim)).ToArray();
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int d = 0; d < shape.HeadDim; d++)
                {
                    double expected = 0;
                    for (int j = 0; j < scores.Length; j++)
                    {
                        expected += Math.Exp(scores[j] - max) / total * v[(first + j) * shape.KvWidth + g * shape.HeadDim + d];
                    }

                    Assert.Equal(expected, y[i * shape.QueryWidth + h * shape.HeadDim + d], 1e-5);
                }
            }
        }
    }

    [Fact]
    public void SiluMulAndAddFollowTheirDefinitions()
    {
        float[] g = Values(12), u = Values(12);
        var y = Run(2, 6, (gt, yt) => _device.SiluMul(gt, Upload(u, 2, 6), yt), g, 6);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(g[i] / (1 + Math.Exp(-g[i])) * u[i], y[i], 1e-5);
        }

        // In place, as the decoder layer calls it.
        var inPlace = Upload(g, 2, 6);
        _device.SiluMul(inPlace, Upload(u, 2, 6), inPlace);
        Assert.Equal(y, Download(inPlace));

        var sum = Upload(g, 2, 6);
        _device.AddInPlace(sum, Upload(u, 2, 6));
        Assert.Equal(g.Zip(u, (a, b) => a + b), Download(sum));
    }

    [Fact]
    public void EmbedAndCopyRowsMoveWholeRows()
    {
        float[] table = Values(5 * 3);
        var output = _device.Allocate(TensorType.Float32, 2, 3);
        _device.Embed([4, 1], Upload(table, 5, 3), output);
        Assert.Equal(table[12..15].Concat(table[3..6]), Download(output));

        var target = _device.Allocate(TensorType.Float32, 4, 3);
        _device.CopyRows(output, 1, target, 2, 1);
        Assert.Equal(new float[6].Concat(table[3..6]).Concat(new float[3]), Download(target));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _device.Embed([5], Upload(table, 5, 3), _device.Allocate(TensorType.Float32, 1, 3)));
        Assert.Contains("token id 5", error.Message);
    }

    [Fact]
    public void ShapeMismatchesNameTheKernelAndShapes()
    {
        var x = _device.Allocate(TensorType.Float32, 2, 4);
        var w = _device.Allocate(TensorType.Float32, 3, 5);
        var error = Assert.Throws<ArgumentException>(() => _device.MatMul(x, w, null, _device.Allocate(TensorType.Float32, 2, 3)));
        Assert.Contains("MatMul weight: expected [3, 4]", error.Message);
    }

    private float[] Run(int rows, int columns, Action<DeviceTensor, DeviceTensor> kernel, float[] input, int inputColumns)
    {
        var output = _device.Allocate(TensorType.Float32, rows, columns);
        kernel(Upload(input, input.Length / inputColumns, inputColumns), output);
        return Download(output);
    }

    private DeviceTensor Upload(float[] values, int rows, int columns)
    {
        var tensor = _device.Allocate(TensorType.Float32, rows, columns);
        _device.Upload<float>(values, tensor);
        return tensor;
    }

    private float[] Download(DeviceTensor tensor)
    {
        var values = new float[tensor.Length];
        _device.Download<float>(tensor, values);
        return values;
    }

    private float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(_random.NextDouble() * 2 - 1)).ToArray();

    public void Dispose() => _device.Dispose();
}
