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
        _device.ApplyRope(tensor, heads, headDim, _device.UploadVector<int>(positions), Upload(frequencies, 1, headDim / 2));
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
    public void PagedAttentionIsCausalSoftmaxOverGroupedKeysOfEachSequence(int? window)
    {
        // Three sequences in one step, in blocks of 4 scattered over a 12-block cache: a decode step at position 20
        // (6 blocks), a prefill chunk continuing 5 cached positions, and a fresh prefill of 6.
        var shape = new AttentionShape(Heads: 4, KvHeads: 2, HeadDim: 6, SlidingWindow: window);
        const int blockSize = 4, cacheBlocks = 12;
        int[][] tables = [[0, 9, 4, 11, 5, 1], [7, 2], [10, 3]];
        int[] queries = [1, 3, 6], contexts = [21, 8, 6];
        var sequences = tables.Select((table, s) => (Table: table, Queries: queries[s], Context: contexts[s],
            Keys: Values(contexts[s] * shape.KvWidth), Vals: Values(contexts[s] * shape.KvWidth))).ToArray();
        int rows = queries.Sum(), maxBlocks = tables.Max(t => t.Length);
        int[] starts = [0, .. queries.Select((_, s) => queries[..(s + 1)].Sum())];
        int Slot(int s, int position) => tables[s][position / blockSize] * blockSize + position % blockSize;

        // Past positions are already in the cache (the rest is noise no sequence may read); this step's go in through
        // WriteKvCache, from rows laid end to end like the step's activations.
        float[] keyCache = Values(cacheBlocks * blockSize * shape.KvWidth), valueCache = Values(keyCache.Length);
        float[] stepKeys = new float[rows * shape.KvWidth], stepValues = new float[rows * shape.KvWidth];
        var slots = new int[rows];
        for (int s = 0; s < sequences.Length; s++)
        {
            var (_, count, context, k, v) = sequences[s];
            for (int p = 0; p < context; p++)
            {
                int row = p - (context - count), source = p * shape.KvWidth;
                bool past = row < 0;
                float[] keyTarget = past ? keyCache : stepKeys, valueTarget = past ? valueCache : stepValues;
                int target = (past ? Slot(s, p) : starts[s] + row) * shape.KvWidth;
                k.AsSpan(source, shape.KvWidth).CopyTo(keyTarget.AsSpan(target));
                v.AsSpan(source, shape.KvWidth).CopyTo(valueTarget.AsSpan(target));
                if (!past)
                {
                    slots[starts[s] + row] = Slot(s, p);
                }
            }
        }

        var keyTensor = Upload(keyCache, cacheBlocks * blockSize, shape.KvWidth);
        var valueTensor = Upload(valueCache, cacheBlocks * blockSize, shape.KvWidth);
        _device.WriteKvCache(Upload(stepKeys, rows, shape.KvWidth), Upload(stepValues, rows, shape.KvWidth),
            _device.UploadVector<int>(slots), keyTensor, valueTensor);
        var blockTables = tables.SelectMany(t => t.Concat(Enumerable.Repeat(-1, maxBlocks - t.Length))).ToArray();
        using var batch = new AttentionBatch(_device.UploadVector<int>(starts), _device.UploadVector<int>(contexts),
            _device.UploadNew<int>(blockTables, tables.Length, maxBlocks), blockSize, tables.Length, queries.Max(), contexts.Max());
        float[] q = Values(rows * shape.QueryWidth);
        var output = _device.Allocate(TensorType.Float32, rows, shape.QueryWidth);
        _device.PagedAttention(Upload(q, rows, shape.QueryWidth), keyTensor, valueTensor, batch, shape, output);
        var y = Download(output);

        for (int s = 0; s < sequences.Length; s++)
        {
            var (_, count, context, k, v) = sequences[s];
            for (int i = 0; i < count; i++)
            {
                int row = starts[s] + i, position = context - count + i;
                int first = window is int w ? Math.Max(0, position - w + 1) : 0;
                for (int h = 0; h < shape.Heads; h++)
                {
                    int g = h / shape.GroupSize;
                    var scores = Enumerable.Range(first, position - first + 1).Select(j =>
                        Enumerable.Range(0, shape.HeadDim).Sum(d => (double)q[row * shape.QueryWidth + h * shape.HeadDim + d] * k[j * shape.KvWidth + g * shape.HeadDim + d])
                        / Math.Sqrt(shape.HeadDim)).ToArray();
                    double max = scores.Max(), total = scores.Sum(x => Math.Exp(x - max));
                    for (int d = 0; d < shape.HeadDim; d++)
                    {
                        double expected = 0;
                        for (int j = 0; j < scores.Length; j++)
                        {
                            expected += Math.Exp(scores[j] - max) / total * v[(first + j) * shape.KvWidth + g * shape.HeadDim + d];
                        }

                        Assert.Equal(expected, y[row * shape.QueryWidth + h * shape.HeadDim + d], 1e-5);
                    }
                }
            }
        }
    }

    [Fact]
    public void PagedAttentionRefusesABlockOutsideTheCache()
    {
        var shape = new AttentionShape(Heads: 2, KvHeads: 1, HeadDim: 4);
        var cache = _device.Allocate(TensorType.Float32, 8, shape.KvWidth);
        using var batch = new AttentionBatch(_device.UploadVector<int>([0, 1]), _device.UploadVector<int>([5]),
            _device.UploadNew<int>([1, 2], 1, 2), BlockSize: 4, Sequences: 1, MaxQueryLength: 1, MaxContextLength: 5);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _device.PagedAttention(_device.Allocate(TensorType.Float32, 1, shape.QueryWidth),
            cache, cache, batch, shape, _device.Allocate(TensorType.Float32, 1, shape.QueryWidth)));
        Assert.Contains("block 1 is 2, outside the cache's 2 blocks", error.Message);
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
        _device.Embed(_device.UploadVector<int>([4, 1]), Upload(table, 5, 3), output);
        Assert.Equal(table[12..15].Concat(table[3..6]), Download(output));

        var target = _device.Allocate(TensorType.Float32, 4, 3);
        _device.CopyRows(output, 1, target, 2, 1);
        Assert.Equal(new float[6].Concat(table[3..6]).Concat(new float[3]), Download(target));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _device.Embed(_device.UploadVector<int>([5]), Upload(table, 5, 3), _device.Allocate(TensorType.Float32, 1, 3)));
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
