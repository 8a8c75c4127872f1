using System.Numerics.Tensors;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// The CPU device's calibration statistics (|x|max, XᵀX in double) bit for bit against a plain double loop and against
/// the host accumulation quantization used before the statistics moved onto the device, over several batches.
/// </summary>
public sealed class CpuCalibrationStatisticsTests
{
    // Widths and batches: a tiny one, an odd one, and one wide enough (1100 × 1000 > 2^20 values) that the device
    // widens the batch in more than one chunk.
    [Theory]
    [InlineData(7, new[] { 3, 1, 5 })]
    [InlineData(130, new[] { 64, 17, 200 })]
    [InlineData(1100, new[] { 1000, 13 })]
    public void GramAndAbsMaxEqualThePlainLoopAndTheHostAccumulation(int n, int[] batches)
    {
        var random = new Random(n);
        var inputs = batches.Select(tokens => Activations(random, tokens, n)).ToArray();

        var (absMax, gram) = OnDevice(new CpuDevice(), n, batches, inputs);
        var (plainAbsMax, plainGram) = PlainLoop(n, batches, inputs);
        var (hostAbsMax, hostGram) = HostAccumulation(n, batches, inputs);

        double[] widened = Array.ConvertAll(absMax, v => (double)v);
        Assert.Equal(plainAbsMax, widened);
        Assert.Equal(hostAbsMax, widened);
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                Assert.Equal(plainGram[i * n + j], gram[i * n + j]);
            }
        }

        Assert.Equal(hostGram, gram);
    }

    [Fact]
    public void GramIsTheSameOnOneThreadAndOnAll()
    {
        const int n = 300;
        int[] batches = [257, 3];
        var random = new Random(3);
        var inputs = batches.Select(tokens => Activations(random, tokens, n)).ToArray();
        var (_, one) = OnDevice(new CpuDevice(maxThreads: 1), n, batches, inputs);
        var (_, all) = OnDevice(new CpuDevice(), n, batches, inputs);
        Assert.Equal(one, all);
    }

    [Fact]
    public void Float64TensorsRoundTripAndCopyRows()
    {
        using var device = new CpuDevice();
        double[] values = [1.0 / 3, -0.0, double.MaxValue, double.Epsilon, -7.25, 1e300];
        using var source = device.UploadNew<double>(values, 3, 2);
        Assert.Equal(TensorType.Float64, source.Type);
        Assert.Equal(48, source.ByteLength);
        Assert.Equal(values, source.ToArray<double>());

        using var target = device.Allocate(TensorType.Float64, 2, 2);
        Assert.Equal(new double[4], target.ToArray<double>());
        device.CopyRows(source, 1, target, 0, 2);
        Assert.Equal(values[2..], target.ToArray<double>());
        Assert.Throws<InvalidOperationException>(() => target.ToArray<float>());
    }

    [Fact]
    public void RefusesWrongTypesAndShapes()
    {
        using var device = new CpuDevice();
        using var x = device.Allocate(TensorType.Float32, 4, 3);
        using var floatGram = device.Allocate(TensorType.Float32, 3, 3);
        using var narrowGram = device.Allocate(TensorType.Float64, 3, 2);
        using var wideMax = device.Allocate(TensorType.Float32, 1, 4);
        Assert.Contains("Float64", Assert.Throws<ArgumentException>(() => device.AccumulateGram(x, floatGram)).Message);
        Assert.Throws<ArgumentException>(() => device.AccumulateGram(x, narrowGram));
        Assert.Throws<ArgumentException>(() => device.AccumulateAbsMax(x, wideMax));
    }

    private static (float[] AbsMax, double[] Gram) OnDevice(CpuDevice device, int n, int[] batches, float[][] inputs)
    {
        using (device)
        {
            using var absMax = device.Allocate(TensorType.Float32, 1, n);
            using var gram = device.Allocate(TensorType.Float64, n, n);
            for (int b = 0; b < batches.Length; b++)
            {
                using var x = device.UploadNew<float>(inputs[b], batches[b], n);
                device.AccumulateAbsMax(x, absMax);
                device.AccumulateGram(x, gram);
            }

            return (absMax.ToArray<float>(), gram.ToArray<double>());
        }
    }

    /// <summary>The definitions, one multiply-add at a time, in token order (zeros add nothing and are skipped).</summary>
    private static (double[] AbsMax, double[] Gram) PlainLoop(int n, int[] batches, float[][] inputs)
    {
        var absMax = new double[n];
        var gram = new double[n * n];
        for (int b = 0; b < batches.Length; b++)
        {
            for (int t = 0; t < batches[b]; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    double xi = inputs[b][t * n + i];
                    absMax[i] = Math.Max(absMax[i], Math.Abs(xi));
                    if (xi == 0)
                    {
                        continue;
                    }

                    for (int j = i; j < n; j++)
                    {
                        gram[i * n + j] += inputs[b][t * n + j] * xi;
                    }
                }
            }
        }

        return (absMax, gram);
    }

    /// <summary>LinearInputStatistics.Accumulate as it was while the statistics lived on the host (the whole batch widened).</summary>
    private static (double[] AbsMax, double[] Gram) HostAccumulation(int n, int[] batches, float[][] inputs)
    {
        var absMax = new double[n];
        var sums = new double[n * n];
        for (int b = 0; b < batches.Length; b++)
        {
            int tokens = batches[b];
            var rows = new double[tokens * n];
            for (int k = 0; k < rows.Length; k++)
            {
                rows[k] = inputs[b][k];
                int c = k % n;
                absMax[c] = Math.Max(absMax[c], Math.Abs(rows[k]));
            }

            Parallel.For(0, n, i =>
            {
                var target = sums.AsSpan(i * n + i, n - i);
                for (int t = 0; t < tokens; t++)
                {
                    double xi = rows[t * n + i];
                    if (xi != 0)
                    {
                        TensorPrimitives.MultiplyAdd<double>(rows.AsSpan(t * n + i, n - i), xi, target, target);
                    }
                }
            });
        }

        return (absMax, sums);
    }

    /// <summary>Values of every scale, an outlier channel, a dead channel and scattered exact zeros, as activations have.</summary>
    private static float[] Activations(Random random, int tokens, int n)
    {
        var x = new float[tokens * n];
        for (int t = 0; t < tokens; t++)
        {
            for (int c = 0; c < n; c++)
            {
                double v = (random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2));
                x[t * n + c] = c == n / 2 ? (float)(v * 40) : c == n - 1 || random.Next(10) == 0 ? 0f : (float)v;
            }
        }

        return x;
    }
}
