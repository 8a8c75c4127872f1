using System.Numerics.Tensors;
using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// Calibration statistics on the GPU: per-column absolute maxima exactly equal to the host's, and the fp64 Gram matrix
/// xᵀx over several accumulating batches against a host double reference, on every path (one GEMM, upper-triangle
/// panels, row chunks, the own kernel); plus the Gram GEMM's time at real widths.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaStatisticsTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const double GramTolerance = 1e-12;

    private static readonly int[] Batches = [1, 37, 2048];

    [GpuTheory]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void AbsMaxIsExactlyTheHosts(int n)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        // A running maximum that already holds values, some above anything the batches bring.
        var expected = Compare.Floats(random, n, 3f).Select(MathF.Abs).ToArray();
        using var absMax = gpu.UploadVector<float>(expected);
        foreach (int tokens in Batches)
        {
            var x = Activations(random, tokens, n);
            using var input = gpu.UploadNew<float>(x, tokens, n);
            gpu.AccumulateAbsMax(input, absMax);
            for (int t = 0; t < tokens; t++)
            {
                for (int c = 0; c < n; c++)
                {
                    expected[c] = MathF.Max(expected[c], MathF.Abs(x[t * n + c]));
                }
            }
        }

        var actual = absMax.ToArray<float>();
        for (int c = 0; c < n; c++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[c]) == BitConverter.SingleToInt32Bits(actual[c]),
                $"AbsMax n={n} (seed {seed}): column {c} is {actual[c]:R} on the GPU, {expected[c]:R} on the host");
        }
    }

    [GpuTheory]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(4096)]
    public void GramMatchesADoubleReference(int n)
    {
        var random = Compare.Fresh(out int seed);
        var batches = Batches.Select(tokens => Activations(random, tokens, n)).ToArray();
        var reference = HostGram(batches, n);
        var gpu = devices.Gpu;
        var paths = new List<(string Name, Action<CudaDevice> Configure)>
        {
            ("chosen", _ => { }),
            ("1 panel", d => d.GramPanels = 1),
            ("2 panels", d => d.GramPanels = 2),
            ("4 panels", d => d.GramPanels = 4),
            ("8 panels", d => d.GramPanels = 8),
            ("rows in chunks of 500", d => d.GramScratchElements = 500L * n),
            ("own kernel", d => d.ForceOwnGramKernel = true),
        };
        foreach (var (name, configure) in paths)
        {
            configure(gpu);
            try
            {
                using var gram = gpu.Allocate(TensorType.Float64, n, n);
                foreach (var x in batches)
                {
                    using var input = gpu.UploadNew<float>(x, x.Length / n, n);
                    gpu.AccumulateGram(input, gram);
                }

                string path = gpu.LastGramPath;
                var actual = gram.ToArray<double>();
                var (scaled, relative) = GramErrors(reference, actual, n);
                output.WriteLine($"Gram n={n} {name} ({path}): max |error| / sqrt(G_ii G_jj) {scaled:E2}, max |error| / |G_ij| {relative:E2}");
                Assert.True(scaled <= GramTolerance,
                    $"Gram n={n} {name} ({path}, seed {seed}): error {scaled:E2} of sqrt(G_ii G_jj) > {GramTolerance:E0}");
            }
            finally
            {
                gpu.GramPanels = 0;
                gpu.GramScratchElements = 64L << 20;
                gpu.ForceOwnGramKernel = false;
            }
        }
    }

    [GpuFact]
    public void GramTimings()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int tokens = 4096;
        foreach (int n in new[] { 4096, 14336 })
        {
            var x = Activations(random, tokens, n);
            using var input = gpu.UploadNew<float>(x, tokens, n);
            using var absMax = gpu.Allocate(TensorType.Float32, 1, n);
            using var gram = gpu.Allocate(TensorType.Float64, n, n);
            int calls = 0;
            const int repeats = 3;
            gpu.AccumulateAbsMax(input, absMax);
            float absMs = gpu.MeasureMilliseconds(() =>
            {
                for (int r = 0; r < repeats; r++)
                {
                    gpu.AccumulateAbsMax(input, absMax);
                }
            }) / repeats;
            Print($"AccumulateAbsMax T={tokens} n={n}: {absMs:F3} ms ({(double)tokens * n * 4 / (absMs * 1e-3) / 1e9:F0} GB/s)");
            double fullFlops = 2.0 * n * n * tokens;
            try
            {
                foreach (int panels in new[] { 1, 2, 4, 8 })
                {
                    gpu.GramPanels = panels;
                    gpu.AccumulateGram(input, gram);
                    float ms = gpu.MeasureMilliseconds(() =>
                    {
                        for (int r = 0; r < repeats; r++)
                        {
                            gpu.AccumulateGram(input, gram);
                        }
                    }) / repeats;
                    calls += 1 + repeats;
                    double work = fullFlops * (panels == 1 ? 1 : (panels + 1) / (2.0 * panels));
                    Print($"AccumulateGram T={tokens} n={n} {gpu.LastGramPath}: {ms:F2} ms, {work / (ms * 1e-3) / 1e12:F1} TFLOP/s done, " +
                        $"{fullFlops / (ms * 1e-3) / 1e12:F1} TFLOP/s of the full xᵀx");
                }

                if (n == 4096)
                {
                    gpu.ForceOwnGramKernel = true;
                    float ms = gpu.MeasureMilliseconds(() => gpu.AccumulateGram(input, gram));
                    calls++;
                    Print($"AccumulateGram T={tokens} n={n} {gpu.LastGramPath}: {ms:F2} ms, {fullFlops / 2 / (ms * 1e-3) / 1e12:F2} TFLOP/s done");
                }
            }
            finally
            {
                gpu.GramPanels = 0;
                gpu.ForceOwnGramKernel = false;
            }

            // Row 0 (all upper triangle) after every call, against the host: the timed calls computed the right thing.
            using var row = gpu.Allocate(TensorType.Float64, 1, n);
            gpu.CopyRows(gram, 0, row, 0, 1);
            var actual = row.ToArray<double>();
            var first = Column(x, tokens, n, 0);
            double g00 = calls * TensorPrimitives.Dot(first, first);
            for (int j = 0; j < n; j++)
            {
                var column = Column(x, tokens, n, j);
                double expected = calls * TensorPrimitives.Dot(first, column), gjj = calls * TensorPrimitives.Dot(column, column);
                Assert.True(Math.Abs(actual[j] - expected) <= GramTolerance * Math.Sqrt(g00 * gjj),
                    $"Gram n={n} after {calls} calls (seed {seed}): [0, {j}] is {actual[j]:R}, expected {expected:R}");
            }
        }
    }

    private void Print(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    /// <summary>Activation-like columns: a mean, a scale, and 1 % outlier columns 50× larger.</summary>
    private static float[] Activations(Random random, int tokens, int n)
    {
        var mean = new float[n];
        var scale = new float[n];
        for (int c = 0; c < n; c++)
        {
            mean[c] = (float)(random.NextDouble() - 0.5);
            scale[c] = (float)(0.1 + 2 * random.NextDouble()) * (random.NextDouble() < 0.01 ? 50 : 1);
        }

        var x = new float[tokens * n];
        for (int t = 0; t < tokens; t++)
        {
            for (int c = 0; c < n; c++)
            {
                x[t * n + c] = mean[c] + scale[c] * (float)(random.NextDouble() * 2 - 1);
            }
        }

        return x;
    }

    private static double[] Column(float[] x, int tokens, int n, int c)
    {
        var column = new double[tokens];
        for (int t = 0; t < tokens; t++)
        {
            column[t] = x[t * n + c];
        }

        return column;
    }

    /// <summary>The upper triangle of Σ over batches of xᵀx in double (float products are exact in double).</summary>
    private static double[] HostGram(float[][] batches, int n)
    {
        int tokens = batches.Sum(b => b.Length / n);
        var columns = new double[n][];
        for (int c = 0; c < n; c++)
        {
            columns[c] = new double[tokens];
        }

        int at = 0;
        foreach (var x in batches)
        {
            int rows = x.Length / n;
            for (int t = 0; t < rows; t++)
            {
                for (int c = 0; c < n; c++)
                {
                    columns[c][at + t] = x[t * n + c];
                }
            }

            at += rows;
        }

        var gram = new double[(long)n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = i; j < n; j++)
            {
                gram[(long)i * n + j] = TensorPrimitives.Dot<double>(columns[i], columns[j]);
            }
        });
        return gram;
    }

    /// <summary>
    /// The worst error over the upper triangle relative to sqrt(G_ii·G_jj) (Cauchy–Schwarz: the size of Σ|x_i·x_j|, the
    /// scale a sum's rounding is on, so an entry that cancels to near zero is judged fairly), and relative to |G_ij|.
    /// </summary>
    private static (double Scaled, double Relative) GramErrors(double[] expected, double[] actual, int n)
    {
        double scaled = 0, relative = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                double e = expected[(long)i * n + j], error = Math.Abs(actual[(long)i * n + j] - e);
                double scale = Math.Sqrt(expected[(long)i * n + i] * expected[(long)j * n + j]);
                scaled = Math.Max(scaled, double.IsNaN(error) ? double.PositiveInfinity : error / scale);
                if (e != 0)
                {
                    relative = Math.Max(relative, error / Math.Abs(e));
                }
            }
        }

        return (scaled, relative);
    }
}
