using System.Diagnostics;
using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Checkpoints;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The quantization section of the device contract on the GPU, each op against a host double reference written from
/// its contract on fresh random inputs (bit for bit where the contract's arithmetic is a fixed sequence of IEEE
/// operations); CholeskyInverseUpper by Uᵀ·U·A = I; a whole GPTQ from the ops against PyTorch's golden codes and
/// against a host GPTQ (act-order, a dead input); and the time of a whole GPTQ of a 4096 × 14336 linear.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaQuantizationTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void ConvertIsExactWideningAndRoundToNearestNarrowing()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 37, columns = 101;
        var floats = Compare.Floats(random, rows * columns, 3f);
        using var f32 = gpu.UploadNew<float>(floats, rows, columns);
        using var f64 = gpu.Allocate(TensorType.Float64, rows, columns);
        gpu.Convert(f32, f64);
        Assert.Equal(floats.Select(f => (double)f).ToArray(), f64.ToArray<double>());

        var doubles = Enumerable.Range(0, rows * columns).Select(_ => (random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-30, 30))).ToArray();
        using var source = gpu.UploadNew<double>(doubles, rows, columns);
        using var narrowed = gpu.Allocate(TensorType.Float32, rows, columns);
        gpu.Convert(source, narrowed);
        var actual = narrowed.ToArray<float>();
        for (int i = 0; i < doubles.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits((float)doubles[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"Convert (seed {seed}): {doubles[i]:R} became {actual[i]:R}, expected {(float)doubles[i]:R}");
        }

        Assert.Throws<ArgumentException>(() => gpu.Convert(f32, narrowed));
    }

    [GpuFact]
    public void ScaleColumnsMatchesTheHostBitForBit()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 50, columns = 333;
        var x = Compare.Floats(random, rows * columns, 2f);
        var s = Compare.Floats(random, columns, 4f);
        s[3] = 0;
        using var x32 = gpu.UploadNew<float>(x, rows, columns);
        using var s32 = gpu.UploadVector<float>(s);
        gpu.ScaleColumns(x32, s32);
        Assert.Equal(x.Select((v, i) => v * s[i % columns]).ToArray(), x32.ToArray<float>());

        var xd = x.Select(v => (double)v * Math.PI).ToArray();
        var sd = s.Select(v => (double)v / 3).ToArray();
        using var x64 = gpu.UploadNew<double>(xd, rows, columns);
        using var s64 = gpu.UploadVector<double>(sd);
        gpu.ScaleColumns(x64, s64);
        Assert.True(xd.Select((v, i) => v * sd[i % columns]).SequenceEqual(x64.ToArray<double>()), $"ScaleColumns Float64 (seed {seed})");
        Assert.Throws<ArgumentException>(() => gpu.ScaleColumns(x64, s32));
    }

    [GpuTheory]
    [InlineData(1)]
    [InlineData(33)]
    [InlineData(300)]
    public void SymmetricFromUpperMatchesTheHostBitForBit(int n)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        var gram = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                // Below the diagonal is undefined after AccumulateGram: NaN there must not leak out.
                gram[i * n + j] = j >= i ? random.NextDouble() * 10 - 5 : double.NaN;
            }
        }

        var r = Enumerable.Range(0, n).Select(_ => 0.1 + random.NextDouble()).ToArray();
        const double factor = 2.0 / 4097;
        using var g = gpu.UploadNew<double>(gram, n, n);
        using var scales = gpu.UploadVector<double>(r);
        using var result = gpu.Allocate(TensorType.Float64, n, n);
        foreach (bool withScales in new[] { false, true })
        {
            gpu.SymmetricFromUpper(g, factor, withScales ? scales : null, result);
            var actual = result.ToArray<double>();
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double expected = factor * gram[Math.Min(i, j) * n + Math.Max(i, j)];
                    if (withScales)
                    {
                        expected = expected * r[i] * r[j];
                    }

                    Assert.True(expected.Equals(actual[i * n + j]),
                        $"SymmetricFromUpper n={n} scales={withScales} (seed {seed}): [{i}, {j}] is {actual[i * n + j]:R}, expected {expected:R}");
                }
            }
        }
    }

    [GpuFact]
    public void DiagonalAndAddToDiagonal()
    {
        var random = Compare.Fresh(out _);
        var gpu = devices.Gpu;
        const int n = 257;
        var square = Enumerable.Range(0, n * n).Select(_ => random.NextDouble()).ToArray();
        var addend = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
        using var s = gpu.UploadNew<double>(square, n, n);
        using var d = gpu.Allocate(TensorType.Float64, 1, n);
        using var a = gpu.UploadVector<double>(addend);
        gpu.Diagonal(s, d);
        Assert.Equal(Enumerable.Range(0, n).Select(i => square[i * n + i]).ToArray(), d.ToArray<double>());
        gpu.AddToDiagonal(s, a);
        var expected = (double[])square.Clone();
        for (int i = 0; i < n; i++)
        {
            expected[i * n + i] += addend[i];
        }

        Assert.Equal(expected, s.ToArray<double>());
    }

    [GpuFact]
    public void PermutationsMoveElementsOfEveryType()
    {
        var random = Compare.Fresh(out _);
        var gpu = devices.Gpu;
        const int rows = 19, columns = 300;
        var order = Enumerable.Range(0, columns).OrderBy(_ => random.Next()).ToArray();
        using var o = gpu.UploadVector<int>(order);

        void Check<T>(T[] values, TensorType type) where T : unmanaged
        {
            using var x = gpu.UploadNew<T>(values, rows, columns);
            using var y = gpu.Allocate(type, rows, columns);
            gpu.PermuteColumns(x, o, y);
            var expected = new T[values.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    expected[r * columns + c] = values[r * columns + order[c]];
                }
            }

            Assert.Equal(expected, y.ToArray<T>());
        }

        Check(Compare.Floats(random, rows * columns), TensorType.Float32);
        Check(Compare.Codes(random, rows * columns), TensorType.Int8);
        Check(Enumerable.Range(0, rows * columns).Select(_ => random.Next()).ToArray(), TensorType.Int32);
        Check(Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble()).ToArray(), TensorType.Float64);

        var square = Enumerable.Range(0, columns * columns).Select(_ => random.NextDouble()).ToArray();
        using var s = gpu.UploadNew<double>(square, columns, columns);
        using var p = gpu.Allocate(TensorType.Float64, columns, columns);
        gpu.PermuteSymmetric(s, o, p);
        var permuted = p.ToArray<double>();
        for (int i = 0; i < columns; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                Assert.Equal(square[order[i] * columns + order[j]], permuted[i * columns + j]);
            }
        }
    }

    [GpuTheory]
    [InlineData(512, false)]
    [InlineData(512, true)]
    [InlineData(4096, false)]
    [InlineData(4096, true)]
    public void CholeskyInverseUpperGivesTheInverseFactor(int n, bool potri)
    {
        var gpu = devices.Gpu;
        using var a = RandomHessian(gpu, n, tokens: 2 * n, seed: n);
        using var factor = gpu.Allocate(TensorType.Float64, n, n);
        gpu.CopyRows(a, 0, factor, 0, n);
        gpu.Synchronize();
        var watch = Stopwatch.StartNew();
        gpu.ForcePotriFactor = potri;
        try
        {
            gpu.CholeskyInverseUpper(factor);
        }
        finally
        {
            gpu.ForcePotriFactor = false;
        }

        double ms = watch.Elapsed.TotalMilliseconds;
        string path = gpu.LastFactorPath;

        // U is what is defined: zero below the diagonal, then check U·A·Uᵀ = I (equivalent to Uᵀ·U·A = I for invertible U)
        // and Uᵀ·U·A = I itself, both as fp64 products on the device.
        var u = factor.ToArray<double>();
        for (int i = 0; i < n; i++)
        {
            Assert.True(u[i * n + i] > 0, $"CholeskyInverseUpper n={n}: diagonal {i} is {u[i * n + i]}");
            Array.Clear(u, i * n, i);
        }

        using var upper = gpu.UploadNew<double>(u, n, n);
        using var ua = gpu.Allocate(TensorType.Float64, n, n);
        using var product = gpu.Allocate(TensorType.Float64, n, n);
        Multiply(gpu, upper, false, a, false, ua);
        Multiply(gpu, upper, true, ua, false, product);
        var p = product.ToArray<double>();
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                worst = Math.Max(worst, Math.Abs(p[i * n + j] - (i == j ? 1 : 0)));
            }
        }

        output.WriteLine($"CholeskyInverseUpper n={n} ({path}): {ms:F1} ms (cuSOLVER, with a first call's setup), max |UᵀUA − I| = {worst:E2}");
        Assert.True(worst <= 1e-9, $"CholeskyInverseUpper n={n} ({path}): max |UᵀUA − I| = {worst:E2} > 1e-9");
    }

    [GpuFact]
    public void CholeskyOfAMatrixThatIsNotPositiveDefiniteNamesThePivot()
    {
        var gpu = devices.Gpu;
        const int n = 100, pivot = 37;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = i == pivot ? -1 : 2;
        }

        foreach (bool potri in new[] { false, true })
        {
            using var square = gpu.UploadNew<double>(a, n, n);
            gpu.ForcePotriFactor = potri;
            try
            {
                var error = Assert.Throws<ArithmeticException>(() => gpu.CholeskyInverseUpper(square));
                output.WriteLine($"{gpu.LastFactorPath}: {error.Message}");
                Assert.Contains($"pivot {pivot} ", error.Message);
                Assert.Contains("ampen", error.Message);
            }
            finally
            {
                gpu.ForcePotriFactor = false;
            }
        }

        // The device goes on working.
        using var good = gpu.UploadNew<double>(Enumerable.Range(0, 16).Select(i => i % 5 == 0 ? 4.0 : 0.0).ToArray(), 4, 4);
        gpu.CholeskyInverseUpper(good);
        Assert.Equal(0.5, good.ToArray<double>()[0], 12);
    }

    [GpuFact]
    public void ChannelScalesAndQuantizeRowsMatchTheHostBitForBit()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 67, columns = 1000;
        var w = Enumerable.Range(0, rows * columns).Select(_ => (random.NextDouble() * 2 - 1) * 0.05).ToArray();
        // A zero row (scale 1e-8, codes 0) and a row of exact ties: scale 0.5, w / s = k + 0.5 rounds to even.
        Array.Clear(w, 5 * columns, columns);
        for (int c = 0; c < columns; c++)
        {
            w[7 * columns + c] = c == 0 ? 63.5 : ((c % 100) - 50 + 0.5) * 0.5;
        }

        using var weights = gpu.UploadNew<double>(w, rows, columns);
        using var scales = gpu.Allocate(TensorType.Float64, 1, rows);
        using var codes = gpu.Allocate(TensorType.Int8, rows, columns);
        gpu.ChannelScales(weights, scales);
        gpu.QuantizeRows(weights, scales, codes);
        var s = scales.ToArray<double>();
        var q = codes.ToArray<sbyte>();
        for (int r = 0; r < rows; r++)
        {
            double max = 0;
            for (int c = 0; c < columns; c++)
            {
                max = Math.Max(max, Math.Abs(w[r * columns + c]));
            }

            double expected = Math.Max(max / 127.0, 1e-8);
            Assert.True(expected.Equals(s[r]), $"ChannelScales (seed {seed}): row {r} is {s[r]:R}, expected {expected:R}");
            for (int c = 0; c < columns; c++)
            {
                Assert.True(Code(w[r * columns + c], expected) == q[r * columns + c],
                    $"QuantizeRows (seed {seed}): [{r}, {c}] = {q[r * columns + c]}, expected {Code(w[r * columns + c], expected)}");
            }
        }

        // Row 7: scale 63.5 / 127 = 0.5; column 1 is −48.5 · 0.5, column 2 −47.5 · 0.5: both round to the even −48.
        Assert.Equal(0.5, s[7]);
        Assert.Equal(-48, q[7 * columns + 1]);
        Assert.Equal(-48, q[7 * columns + 2]);
    }

    [GpuTheory]
    [InlineData(1, 0)]
    [InlineData(37, 11)]
    [InlineData(128, 128)]
    [InlineData(200, 40)]
    public void GptqQuantizeBlockMatchesTheContractsLoopBitForBit(int width, int start)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 70;
        int n = start + width + 23;
        var w = Enumerable.Range(0, rows * n).Select(_ => (random.NextDouble() * 2 - 1) * 0.1).ToArray();
        var s = Enumerable.Range(0, rows).Select(_ => 0.1 / 127 * (0.5 + random.NextDouble())).ToArray();
        var u = RandomUpper(random, n);
        using var weights = gpu.UploadNew<double>(w, rows, n);
        using var scales = gpu.UploadVector<double>(s);
        using var upper = gpu.UploadNew<double>(u, n, n);
        using var quantized = gpu.Allocate(TensorType.Int8, rows, n);
        using var errors = gpu.Allocate(TensorType.Float64, rows, width);
        gpu.GptqQuantizeBlock(weights, scales, upper, start, width, quantized, errors);

        var q = new sbyte[rows * n];
        var e = new double[rows * width];
        HostQuantizeBlock(w, rows, n, s, u, start, width, q, e);
        string what = $"GptqQuantizeBlock width={width} start={start} (seed {seed})";
        Assert.True(q.SequenceEqual(quantized.ToArray<sbyte>()), what + ": codes differ");
        AssertBitEqual(e, errors.ToArray<double>(), what + " errors");
        AssertBitEqual(w, weights.ToArray<double>(), what + " weights");
    }

    [GpuTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void GptqPropagateAndQuadraticErrorMatchTheHost(bool ownKernel)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 90, n = 300;
        gpu.ForceOwnFp64Gemm = ownKernel;
        try
        {
            // A misaligned block (start 37) and an aligned one.
            foreach (var (start, width) in new[] { (37, 50), (128, 128) })
            {
                var w = Enumerable.Range(0, rows * n).Select(_ => random.NextDouble() - 0.5).ToArray();
                var e = Enumerable.Range(0, rows * width).Select(_ => random.NextDouble() - 0.5).ToArray();
                var u = RandomUpper(random, n);
                using var weights = gpu.UploadNew<double>(w, rows, n);
                using var errors = gpu.UploadNew<double>(e, rows, width);
                using var upper = gpu.UploadNew<double>(u, n, n);
                gpu.GptqPropagate(weights, errors, upper, start);
                string path = gpu.LastFp64GemmPath;
                int end = start + width;
                for (int r = 0; r < rows; r++)
                {
                    for (int j = end; j < n; j++)
                    {
                        double sum = 0;
                        for (int k = 0; k < width; k++)
                        {
                            sum += e[r * width + k] * u[(start + k) * n + j];
                        }

                        w[r * n + j] -= sum;
                    }
                }

                AssertClose(w, weights.ToArray<double>(), 1e-13, $"GptqPropagate [{start}, {end}) on {path} (seed {seed})");
                output.WriteLine($"GptqPropagate [{start}, {end}): {path}");
            }

            var weightsHost = Enumerable.Range(0, rows * n).Select(_ => random.NextDouble() - 0.5).ToArray();
            var codes = Compare.Codes(random, rows * n);
            var scales = Enumerable.Range(0, rows).Select(_ => random.NextDouble() / 127).ToArray();
            var hessian = HostSymmetric(random, n);
            using var wt = gpu.UploadNew<double>(weightsHost, rows, n);
            using var qt = gpu.UploadNew<sbyte>(codes, rows, n);
            using var st = gpu.UploadVector<double>(scales);
            using var ht = gpu.UploadNew<double>(hessian, n, n);
            using var result = gpu.UploadVector<double>([123.0]);
            gpu.QuadraticError(wt, qt, st, ht, result);
            double expected = 0;
            var delta = new double[n];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    delta[c] = weightsHost[r * n + c] - codes[r * n + c] * scales[r];
                }

                for (int i = 0; i < n; i++)
                {
                    double hd = 0;
                    for (int j = 0; j < n; j++)
                    {
                        hd += hessian[i * n + j] * delta[j];
                    }

                    expected += delta[i] * hd;
                }
            }

            double actual = result.ToArray<double>()[0];
            output.WriteLine($"QuadraticError: {actual:R} on the GPU ({gpu.LastFp64GemmPath}), {expected:R} on the host");
            Assert.True(Math.Abs(actual - expected) <= 1e-10 * Math.Abs(expected), $"QuadraticError (seed {seed}): {actual:R} vs {expected:R}");
        }
        finally
        {
            gpu.ForceOwnFp64Gemm = false;
        }
    }

    [GpuFact]
    public void FillNormalIsTheContractsGeneratorWhateverTheShape()
    {
        var gpu = devices.Gpu;
        const ulong seed = 0x1234_5678_9abc_def0UL;
        const float std = 0.02f;
        using var big = gpu.Allocate(TensorType.Float32, 1000, 1003);
        using var small = gpu.Allocate(TensorType.Float32, 3, 7);
        gpu.FillNormal(big, seed, std);
        gpu.FillNormal(small, seed, std);
        var x = big.ToArray<float>();
        var y = small.ToArray<float>();
        Assert.Equal(x.Take(y.Length).ToArray(), y);
        double worst = 0;
        for (int i = 0; i < x.Length; i += 97)
        {
            float expected = HostNormal(seed, i, std);
            worst = Math.Max(worst, Math.Abs(expected - x[i]) / (Math.Abs(expected) + std * 1e-3));
        }

        double mean = x.Average(v => (double)v), deviation = Math.Sqrt(x.Average(v => (double)v * v) - mean * mean);
        output.WriteLine($"FillNormal: max relative difference to the host formula {worst:E2}; mean {mean:E2}, std {deviation:E4} (asked {std})");
        Assert.True(worst <= 1e-5, $"FillNormal differs from the host formula by {worst:E2}");
        Assert.True(Math.Abs(mean) < 5 * std / Math.Sqrt(x.Length));
        Assert.True(Math.Abs(deviation / std - 1) < 0.01);
    }

    /// <summary>
    /// tests/golden/plain: SmoothQuant (α 0.8) then GPTQ (block 128, damp 0.01) by gptq_ref.py in float64 PyTorch;
    /// here H comes from AccumulateGram + SymmetricFromUpper(2/T, 1/s), and GPTQ from the ops.
    /// </summary>
    [GpuFact]
    public void WholeGptqFromTheOpsGivesPyTorchsGoldenCodes()
    {
        var gpu = devices.Gpu;
        using var input = SafeTensorsFile.Open(Golden("plain.in.safetensors"));
        using var golden = SafeTensorsFile.Open(Golden("plain.out.safetensors"));
        var wf = input.ReadFloat32("W");
        var xf = input.ReadFloat32("X");
        int n = (int)input.Tensors["W"].Shape[1], rows = wf.Length / n, tokens = xf.Length / n;
        var s = new double[n];
        for (int j = 0; j < n; j++)
        {
            double xMax = 0, wMax = 0;
            for (int t = 0; t < tokens; t++)
            {
                xMax = Math.Max(xMax, Math.Abs((double)xf[t * n + j]));
            }

            for (int r = 0; r < rows; r++)
            {
                wMax = Math.Max(wMax, Math.Abs((double)wf[r * n + j]));
            }

            s[j] = Math.Max(Math.Pow(Math.Max(xMax, 1e-5), 0.8) / Math.Pow(Math.Max(wMax, 1e-5), 0.2), 1e-5);
        }

        var ws = new double[rows * n];
        for (int i = 0; i < ws.Length; i++)
        {
            ws[i] = wf[i] * s[i % n];
        }

        using var x = gpu.UploadNew<float>(xf, tokens, n);
        using var gram = gpu.Allocate(TensorType.Float64, n, n);
        gpu.AccumulateGram(x, gram);
        using var inverse = gpu.UploadVector<double>(s.Select(v => 1 / v).ToArray());
        var h = gpu.Allocate(TensorType.Float64, n, n);
        gpu.SymmetricFromUpper(gram, 2.0 / tokens, inverse, h);
        var w = gpu.UploadNew<double>(ws, rows, n);
        var (codes, scales) = GptqWithOps(gpu, w, h, 128, 0.01, actOrder: false);

        var expected = golden.ReadInt8("q");
        var expectedScales = golden.ReadFloat32("scale");
        var (equal, worst) = Agreement(expected, codes);
        output.WriteLine($"golden plain {rows}×{n}: {equal} of {codes.Length} codes equal PyTorch's, worst difference {worst}");
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(expectedScales[r], (float)scales[r]);
        }

        Assert.True(equal >= 0.999 * codes.Length && worst <= 1, $"golden plain: {equal} of {codes.Length} equal, worst {worst}");
    }

    /// <summary>A 256 × 512 GPTQ with act-order and a dead input from the ops on the GPU, against the same algorithm on the host.</summary>
    [GpuFact]
    public void WholeGptqWithActOrderMatchesTheHost()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        const int rows = 256, n = 512, tokens = 1024, dead = 17;
        var x = Compare.Floats(random, tokens * n, 1f);
        for (int t = 0; t < tokens; t++)
        {
            x[t * n + dead] = 0;
            x[t * n + 5] *= 30;
        }

        var w = Enumerable.Range(0, rows * n).Select(_ => (random.NextDouble() * 2 - 1) / Math.Sqrt(n)).ToArray();
        var h = HostHessian(x, tokens, n);

        var (expected, expectedScales) = HostGptq((double[])w.Clone(), (double[])h.Clone(), rows, n, 128, 0.01, actOrder: true);
        var (codes, scales) = GptqWithOps(gpu, gpu.UploadNew<double>(w, rows, n), gpu.UploadNew<double>(h, n, n), 128, 0.01, actOrder: true);
        var (equal, worst) = Agreement(expected, codes);
        output.WriteLine($"GPTQ act-order {rows}×{n}: {equal} of {codes.Length} codes equal the host's, worst difference {worst}");
        Assert.Equal(expectedScales, scales);
        Assert.True(equal >= 0.999 * codes.Length && worst <= 1, $"GPTQ act-order (seed {seed}): {equal} of {codes.Length} equal, worst {worst}");
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(0, codes[r * n + dead]);
        }
    }

    /// <summary>GPTQ of a Llama-3-8B down_proj-sized linear (4096 × 14336), H from 16384 random rows; printed, not asserted.</summary>
    [GpuFact]
    [Trait("Kind", "Timing")]
    public void WholeGptqTimingAt4096x14336()
    {
        var gpu = devices.Gpu;
        const int rows = 4096, n = 14336, tokens = 16384;
        (DeviceTensor H, DeviceTensor W) Prepare()
        {
            var h = gpu.Allocate(TensorType.Float64, n, n);
            var w = gpu.Allocate(TensorType.Float64, rows, n);
            using var x = gpu.Allocate(TensorType.Float32, tokens, n);
            using var gram = gpu.Allocate(TensorType.Float64, n, n);
            using var wf = gpu.Allocate(TensorType.Float32, rows, n);
            gpu.FillNormal(x, 42, 1f);
            gpu.AccumulateGram(x, gram);
            gpu.SymmetricFromUpper(gram, 2.0 / tokens, null, h);
            gpu.FillNormal(wf, 43, (float)(1 / Math.Sqrt(n)));
            gpu.Convert(wf, w);
            gpu.Synchronize();
            return (h, w);
        }

        var (h, w) = Prepare();
        // Twice from the same H and W: the first run also makes cuBLASLt's plans for the block shapes and cuSOLVER's handle.
        var lines = new List<string>();
        sbyte[] codes = [];
        // A third run takes PyTorch's route to the factor (potrf, potri, potrf), for comparison.
        for (int run = 0; run < 3; run++)
        {
            var (hRun, wRun) = run == 0 ? (h, w) : Prepare();
            var phases = new List<(string, double)>();
            gpu.ForcePotriFactor = run == 2;
            var watch = Stopwatch.StartNew();
            try
            {
                (codes, _) = GptqWithOps(gpu, wRun, hRun, 128, 0.01, actOrder: false, phases);
            }
            finally
            {
                gpu.ForcePotriFactor = false;
            }

            double seconds = watch.Elapsed.TotalSeconds;
            lines.Add($"TIMING GPTQ {rows}×{n} (H from {tokens} rows), block 128, fp64 on {gpu.Name}, run {run + 1}: {seconds:F3} s in all " +
                $"({string.Join(", ", phases.Select(p => $"{p.Item1} {p.Item2:F3} s"))}; factor by {gpu.LastFactorPath}, products on {gpu.LastFp64GemmPath}); PyTorch's reference took 3.6 s on an H200");
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }

        Assert.Equal(rows * n, codes.Length);
    }

    /// <summary>
    /// Every op on the same fresh random inputs on the GPU and on the CPU device: equal bit for bit where the contract's
    /// arithmetic is a fixed sequence of IEEE operations (printed as "exact"), else within fp64 tolerance. An op the CPU
    /// device does not implement yet (NotSupportedException) is listed, not failed.
    /// </summary>
    [GpuFact]
    public void EveryOpEqualsTheCpuDevice()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        var cpu = devices.Cpu;
        const int rows = 48, n = 200, tokens = 400;
        var report = new List<string>();
        var missing = new List<string>();

        void Same<T>(string op, Func<IComputeDevice, T[]> run, double tolerance) where T : unmanaged
        {
            T[] expected;
            try
            {
                expected = run(cpu);
            }
            catch (NotSupportedException)
            {
                missing.Add(op);
                return;
            }

            var actual = run(gpu);
            Assert.Equal(expected.Length, actual.Length);
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double e = ToDouble(expected[i]), a = ToDouble(actual[i]);
                if (!e.Equals(a))
                {
                    worst = Math.Max(worst, Math.Abs(a - e) / (Math.Abs(e) + 1e-300));
                }
            }

            var (expectedDoubles, actualDoubles) = (expected.Select(ToDouble).ToArray(), actual.Select(ToDouble).ToArray());
            if (tolerance == 0)
            {
                Assert.True(expectedDoubles.SequenceEqual(actualDoubles), $"{op} (seed {seed}): the GPU differs from the CPU device (max relative {worst:E2})");
            }
            else
            {
                AssertClose(expectedDoubles, actualDoubles, tolerance, $"{op} (seed {seed}) against the CPU device");
            }

            report.Add(worst == 0 ? $"{op} exact" : $"{op} {worst:E1}");
        }

        static double ToDouble<T>(T value) where T : unmanaged => value switch
        {
            double d => d,
            float f => f,
            sbyte b => b,
            int i => i,
            _ => throw new NotSupportedException(typeof(T).Name),
        };

        var floats = Compare.Floats(random, rows * n, 2f);
        var w = Enumerable.Range(0, rows * n).Select(_ => (random.NextDouble() * 2 - 1) * 0.05).ToArray();
        var columnScales = Enumerable.Range(0, n).Select(_ => 0.25 + random.NextDouble()).ToArray();
        var x = Compare.Floats(random, tokens * n, 1f);
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var codes = Compare.Codes(random, rows * n);

        Same("Convert Float32→Float64", d => Run<double>(d, t => d.Convert(t.Up(floats, rows, n), t.New(TensorType.Float64, rows, n)), 1), 0);
        Same("Convert Float64→Float32", d => Run<float>(d, t => d.Convert(t.Up(w, rows, n), t.New(TensorType.Float32, rows, n)), 1), 0);
        Same("ScaleColumns Float32", d => Run<float>(d, t => d.ScaleColumns(t.Up(floats, rows, n), t.Up(columnScales.Select(v => (float)v).ToArray(), 1, n)), 0), 0);
        Same("ScaleColumns Float64", d => Run<double>(d, t => d.ScaleColumns(t.Up(w, rows, n), t.Up(columnScales, 1, n)), 0), 0);
        // H = 2/T·S⁻¹XᵀXS⁻¹ from the device's own Gram matrix (fp64 sums in different orders: compared within tolerance).
        Same("SymmetricFromUpper", d => Run<double>(d, t =>
        {
            var gram = t.New(TensorType.Float64, n, n);
            d.AccumulateGram(t.Up(x, tokens, n), gram);
            d.SymmetricFromUpper(gram, 2.0 / tokens, t.Up(columnScales.Select(v => 1 / v).ToArray(), 1, n), t.New(TensorType.Float64, n, n));
        }, 3), 1e-13);
        var h = HostHessian(x, tokens, n);
        Same("Diagonal", d => Run<double>(d, t => d.Diagonal(t.Up(h, n, n), t.New(TensorType.Float64, 1, n)), 1), 0);
        Same("AddToDiagonal", d => Run<double>(d, t => d.AddToDiagonal(t.Up(h, n, n), t.Up(columnScales, 1, n)), 0), 0);
        Same("PermuteColumns Int8", d => Run<sbyte>(d, t => d.PermuteColumns(t.Up(codes, rows, n), t.Up(order, 1, n), t.New(TensorType.Int8, rows, n)), 2), 0);
        Same("PermuteColumns Float64", d => Run<double>(d, t => d.PermuteColumns(t.Up(w, rows, n), t.Up(order, 1, n), t.New(TensorType.Float64, rows, n)), 2), 0);
        Same("PermuteSymmetric", d => Run<double>(d, t => d.PermuteSymmetric(t.Up(h, n, n), t.Up(order, 1, n), t.New(TensorType.Float64, n, n)), 2), 0);
        Same("CholeskyInverseUpper", d =>
        {
            var u = Run<double>(d, t => d.CholeskyInverseUpper(t.Up(h, n, n)), 0);
            for (int i = 0; i < n; i++)
            {
                Array.Clear(u, i * n, i);
            }

            return u;
        }, 1e-10);
        Same("ChannelScales", d => Run<double>(d, t => d.ChannelScales(t.Up(w, rows, n), t.New(TensorType.Float64, 1, rows)), 1), 0);
        var s = Enumerable.Range(0, rows).Select(_ => 0.05 / 127 * (0.5 + random.NextDouble())).ToArray();
        Same("QuantizeRows", d => Run<sbyte>(d, t => d.QuantizeRows(t.Up(w, rows, n), t.Up(s, 1, rows), t.New(TensorType.Int8, rows, n)), 2), 0);
        var u = RandomUpper(random, n);
        for (int i = 0; i < n * n; i++)
        {
            u[i] = double.IsNaN(u[i]) ? 0 : u[i];
        }

        foreach (var (start, width) in new[] { (0, 128), (128, 72), (13, 1) })
        {
            string block = $"[{start}, {start + width})";
            Same($"GptqQuantizeBlock {block} codes", d => Run<sbyte>(d, t => d.GptqQuantizeBlock(t.Up(w, rows, n), t.Up(s, 1, rows), t.Up(u, n, n), start, width,
                t.New(TensorType.Int8, rows, n), t.New(TensorType.Float64, rows, width)), 3), 0);
            Same($"GptqQuantizeBlock {block} errors", d => Run<double>(d, t => d.GptqQuantizeBlock(t.Up(w, rows, n), t.Up(s, 1, rows), t.Up(u, n, n), start, width,
                t.New(TensorType.Int8, rows, n), t.New(TensorType.Float64, rows, width)), 4), 1e-13);
            Same($"GptqQuantizeBlock {block} weights", d => Run<double>(d, t => d.GptqQuantizeBlock(t.Up(w, rows, n), t.Up(s, 1, rows), t.Up(u, n, n), start, width,
                t.New(TensorType.Int8, rows, n), t.New(TensorType.Float64, rows, width)), 0), 1e-13);
            var e = Enumerable.Range(0, rows * width).Select(_ => random.NextDouble() - 0.5).ToArray();
            Same($"GptqPropagate {block}", d => Run<double>(d, t => d.GptqPropagate(t.Up(w, rows, n), t.Up(e, rows, width), t.Up(u, n, n), start), 0), 1e-12);
        }

        Same("QuadraticError", d => Run<double>(d, t => d.QuadraticError(t.Up(w, rows, n), t.Up(codes, rows, n), t.Up(s, 1, rows), t.Up(h, n, n),
            t.New(TensorType.Float64, 1, 1)), 4), 1e-10);
        Same("FillNormal", d => Run<float>(d, t => d.FillNormal(t.New(TensorType.Float32, rows, n), 99, 0.5f), 0), 1e-6);

        output.WriteLine($"GPU = CPU device (seed {seed}): {string.Join("; ", report)}");
        output.WriteLine(missing.Count == 0 ? "the CPU device implements every op" : $"not on the CPU device yet: {string.Join(", ", missing)}");
    }

    /// <summary>The whole GPTQ from the ops (act-order, a dead input) on the CPU device and on the GPU: the same codes.</summary>
    [GpuFact]
    public void WholeGptqOnTheGpuMatchesTheCpuDevice()
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        var cpu = devices.Cpu;
        const int rows = 256, n = 512, tokens = 1024;
        var x = Compare.Floats(random, tokens * n, 1f);
        for (int t = 0; t < tokens; t++)
        {
            x[t * n + 3] = 0;
            x[t * n + 40] *= 25;
        }

        var w = Enumerable.Range(0, rows * n).Select(_ => (random.NextDouble() * 2 - 1) / Math.Sqrt(n)).ToArray();
        var h = HostHessian(x, tokens, n);
        (sbyte[] Codes, double[] Scales) expected;
        try
        {
            expected = GptqWithOps(cpu, cpu.UploadNew<double>(w, rows, n), cpu.UploadNew<double>(h, n, n), 128, 0.01, actOrder: true);
        }
        catch (NotSupportedException e)
        {
            output.WriteLine($"the CPU device lacks an op of GPTQ yet: {e.Message}");
            return;
        }

        var (codes, scales) = GptqWithOps(gpu, gpu.UploadNew<double>(w, rows, n), gpu.UploadNew<double>(h, n, n), 128, 0.01, actOrder: true);
        var (equal, worst) = Agreement(expected.Codes, codes);
        output.WriteLine($"GPTQ act-order {rows}×{n} on the GPU vs the CPU device: {equal} of {codes.Length} codes equal, worst difference {worst}");
        Assert.Equal(expected.Scales, scales);
        Assert.True(equal >= 0.999 * codes.Length && worst <= 1, $"GPTQ GPU vs CPU device (seed {seed}): {equal} of {codes.Length} equal, worst {worst}");
    }

    /// <summary>
    /// Runs <paramref name="op"/> on tensors it makes through <see cref="Tensors"/> and returns the
    /// <paramref name="result"/>-th tensor it made (in order of making), downloaded.
    /// </summary>
    private static T[] Run<T>(IComputeDevice device, Action<Tensors> op, int result) where T : unmanaged
    {
        using var tensors = new Tensors(device);
        op(tensors);
        return tensors.Made[result].ToArray<T>();
    }

    private sealed class Tensors(IComputeDevice device) : IDisposable
    {
        public List<DeviceTensor> Made { get; } = [];

        public DeviceTensor Up<T>(T[] values, int rows, int columns) where T : unmanaged => Keep(device.UploadNew<T>(values, rows, columns));

        public DeviceTensor New(TensorType type, int rows, int columns) => Keep(device.Allocate(type, rows, columns));

        private DeviceTensor Keep(DeviceTensor tensor)
        {
            Made.Add(tensor);
            return tensor;
        }

        public void Dispose()
        {
            foreach (var tensor in Made)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>2/T·XᵀX, full and symmetric, in host doubles.</summary>
    private static double[] HostHessian(float[] x, int tokens, int n)
    {
        var h = new double[n * n];
        for (int t = 0; t < tokens; t++)
        {
            for (int i = 0; i < n; i++)
            {
                double xi = x[t * n + i];
                for (int j = i; j < n; j++)
                {
                    h[i * n + j] += xi * x[t * n + j];
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                h[i * n + j] *= 2.0 / tokens;
                h[j * n + i] = h[i * n + j];
            }
        }

        return h;
    }

    // ---- GPTQ written from the ops, as gptq_ref.py's loop (the algorithm the Model's Gptq.Quantize builds the same way).

    /// <summary>
    /// gptq_ref.py's gptq() on a device: dead inputs (zero Hessian diagonal) get a unit pivot and zero weights, scales
    /// from the weights, optional act-order, damp · mean(diag) on the diagonal, the inverse factor, then per block the
    /// inner loop and the lazy update. Consumes (disposes) <paramref name="weights"/> and <paramref name="hessian"/>.
    /// Codes (in the original column order) and scales come back to the host after the timed part.
    /// </summary>
    private static (sbyte[] Codes, double[] Scales) GptqWithOps(IComputeDevice d, DeviceTensor weights, DeviceTensor hessian, int block,
        double damp, bool actOrder, List<(string, double)>? phases = null)
    {
        int rows = weights.Rows, n = weights.Columns;
        var watch = Stopwatch.StartNew();
        void Phase(string name)
        {
            if (phases is not null)
            {
                d.Synchronize();
                phases.Add((name, watch.Elapsed.TotalSeconds));
                watch.Restart();
            }
        }

        var owned = new List<DeviceTensor> { weights, hessian };
        try
        {
            var diagonal = owned.Keep(d.Allocate(TensorType.Float64, 1, n));
            d.Diagonal(hessian, diagonal);
            var diag = diagonal.ToArray<double>();
            var unitPivots = new double[n];
            var keep = new double[n];
            for (int i = 0; i < n; i++)
            {
                bool dead = diag[i] == 0;
                unitPivots[i] = dead ? 1 : 0;
                keep[i] = dead ? 0 : 1;
                diag[i] = dead ? 1 : diag[i];
            }

            d.AddToDiagonal(hessian, owned.Keep(d.UploadVector<double>(unitPivots)));
            d.ScaleColumns(weights, owned.Keep(d.UploadVector<double>(keep)));
            var scales = owned.Keep(d.Allocate(TensorType.Float64, 1, rows));
            d.ChannelScales(weights, scales);
            int[]? order = null;
            if (actOrder)
            {
                order = Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray();
                var orderTensor = owned.Keep(d.UploadVector<int>(order));
                var permutedWeights = owned.Keep(d.Allocate(TensorType.Float64, rows, n));
                var permutedHessian = owned.Keep(d.Allocate(TensorType.Float64, n, n));
                d.PermuteColumns(weights, orderTensor, permutedWeights);
                d.PermuteSymmetric(hessian, orderTensor, permutedHessian);
                weights = permutedWeights;
                hessian = permutedHessian;
            }

            double mean = diag.Sum() / n;
            d.AddToDiagonal(hessian, owned.Keep(d.UploadVector<double>(Enumerable.Repeat(damp * mean, n).ToArray())));
            Phase("preparation");
            d.CholeskyInverseUpper(hessian);
            Phase("inverse factor");
            var quantized = owned.Keep(d.Allocate(TensorType.Int8, rows, n));
            var errors = owned.Keep(d.Allocate(TensorType.Float64, rows, block));
            for (int start = 0; start < n; start += block)
            {
                int width = Math.Min(block, n - start);
                var blockErrors = width == block ? errors : owned.Keep(d.Allocate(TensorType.Float64, rows, width));
                d.GptqQuantizeBlock(weights, scales, hessian, start, width, quantized, blockErrors);
                d.GptqPropagate(weights, blockErrors, hessian, start);
            }

            Phase("blocks");
            if (order is not null)
            {
                var inverse = new int[n];
                for (int p = 0; p < n; p++)
                {
                    inverse[order[p]] = p;
                }

                var restored = owned.Keep(d.Allocate(TensorType.Int8, rows, n));
                d.PermuteColumns(quantized, owned.Keep(d.UploadVector<int>(inverse)), restored);
                quantized = restored;
            }

            return (quantized.ToArray<sbyte>(), scales.ToArray<double>());
        }
        finally
        {
            foreach (var tensor in owned)
            {
                tensor.Dispose();
            }
        }
    }

    // ---- Host references.

    private static sbyte Code(double w, double scale) => (sbyte)Math.Clamp(Math.Round(w / scale, MidpointRounding.ToEven), -127, 127);

    /// <summary>GptqQuantizeBlock's contract, literally.</summary>
    private static void HostQuantizeBlock(double[] w, int rows, int n, double[] s, double[] u, int start, int width, sbyte[] q, double[] e)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int i = start; i < start + width; i++)
            {
                double value = w[r * n + i];
                sbyte code = Code(value, s[r]);
                q[r * n + i] = code;
                double error = (value - code * s[r]) / u[i * n + i];
                e[r * width + i - start] = error;
                for (int j = i + 1; j < start + width; j++)
                {
                    w[r * n + j] -= error * u[i * n + j];
                }
            }
        }
    }

    /// <summary>gptq_ref.py's gptq() in host doubles.</summary>
    private static (sbyte[] Codes, double[] Scales) HostGptq(double[] w, double[] h, int rows, int n, int block, double damp, bool actOrder)
    {
        var diag = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (h[i * n + i] == 0)
            {
                h[i * n + i] = 1;
                for (int r = 0; r < rows; r++)
                {
                    w[r * n + i] = 0;
                }
            }

            diag[i] = h[i * n + i];
        }

        var scales = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double max = 0;
            for (int c = 0; c < n; c++)
            {
                max = Math.Max(max, Math.Abs(w[r * n + c]));
            }

            scales[r] = Math.Max(max / 127.0, 1e-8);
        }

        int[] order = actOrder ? Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray() : Enumerable.Range(0, n).ToArray();
        var pw = new double[rows * n];
        var ph = new double[n * n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                pw[r * n + c] = w[r * n + order[c]];
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                ph[i * n + j] = h[order[i] * n + order[j]];
            }
        }

        double mean = diag.Sum() / n;
        for (int i = 0; i < n; i++)
        {
            ph[i * n + i] += damp * mean;
        }

        var u = HostCholeskyInverseUpper(ph, n);
        var q = new sbyte[rows * n];
        for (int start = 0; start < n; start += block)
        {
            int width = Math.Min(block, n - start), end = start + width;
            var e = new double[rows * width];
            HostQuantizeBlock(pw, rows, n, scales, u, start, width, q, e);
            for (int r = 0; r < rows; r++)
            {
                for (int j = end; j < n; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < width; k++)
                    {
                        sum += e[r * width + k] * u[(start + k) * n + j];
                    }

                    pw[r * n + j] -= sum;
                }
            }
        }

        var codes = new sbyte[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < n; p++)
            {
                codes[r * n + order[p]] = q[r * n + p];
            }
        }

        return (codes, scales);
    }

    /// <summary>U upper with A⁻¹ = UᵀU: L = chol(A), A⁻¹ = L⁻ᵀL⁻¹, U = chol(A⁻¹)ᵀ.</summary>
    private static double[] HostCholeskyInverseUpper(double[] a, int n)
    {
        var l = HostCholeskyLower(a, n);
        var li = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            li[j * n + j] = 1 / l[j * n + j];
            for (int i = j + 1; i < n; i++)
            {
                double sum = 0;
                for (int k = j; k < i; k++)
                {
                    sum += l[i * n + k] * li[k * n + j];
                }

                li[i * n + j] = -sum / l[i * n + i];
            }
        }

        var inverse = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = Math.Max(i, j); k < n; k++)
                {
                    sum += li[k * n + i] * li[k * n + j];
                }

                inverse[i * n + j] = sum;
            }
        }

        var m = HostCholeskyLower(inverse, n);
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                u[i * n + j] = m[j * n + i];
            }
        }

        return u;
    }

    private static double[] HostCholeskyLower(double[] a, int n)
    {
        var l = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++)
            {
                d -= l[j * n + k] * l[j * n + k];
            }

            l[j * n + j] = Math.Sqrt(d);
            for (int i = j + 1; i < n; i++)
            {
                double sum = a[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    sum -= l[i * n + k] * l[j * n + k];
                }

                l[i * n + j] = sum / l[j * n + j];
            }
        }

        return l;
    }

    private static float HostNormal(ulong seed, long i, float std)
    {
        unchecked
        {
            ulong z = seed ^ ((ulong)i * 0x9E3779B97F4A7C15UL);
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            double u1 = ((z >> 32) + 1.0) / 4294967296.0, u2 = (z & 0xffffffffUL) / 4294967296.0;
            return (float)((double)std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(6.283185307179586 * u2));
        }
    }

    /// <summary>An upper factor like GPTQ's: positive diagonal around 1, small entries above it, NaN below (undefined).</summary>
    private static double[] RandomUpper(Random random, int n)
    {
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                u[i * n + j] = j < i ? double.NaN : j == i ? 0.5 + random.NextDouble() : (random.NextDouble() - 0.5) * 0.1;
            }
        }

        return u;
    }

    private static double[] HostSymmetric(Random random, int n)
    {
        var h = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                h[i * n + j] = h[j * n + i] = random.NextDouble() - 0.5 + (i == j ? n : 0);
            }
        }

        return h;
    }

    /// <summary>2/T·XᵀX + 0.01·I of T random rows, made on the device (FillNormal, AccumulateGram, SymmetricFromUpper).</summary>
    private static DeviceTensor RandomHessian(CudaDevice gpu, int n, int tokens, int seed)
    {
        using var x = gpu.Allocate(TensorType.Float32, tokens, n);
        using var gram = gpu.Allocate(TensorType.Float64, n, n);
        gpu.FillNormal(x, (ulong)seed, 1f);
        gpu.AccumulateGram(x, gram);
        var h = gpu.Allocate(TensorType.Float64, n, n);
        gpu.SymmetricFromUpper(gram, 2.0 / tokens, null, h);
        using var damp = gpu.UploadVector<double>(Enumerable.Repeat(0.01, n).ToArray());
        gpu.AddToDiagonal(h, damp);
        return h;
    }

    /// <summary>c = op(a)·b for squares on the device's fp64 product.</summary>
    private static void Multiply(CudaDevice gpu, DeviceTensor a, bool transA, DeviceTensor b, bool transB, DeviceTensor c)
    {
        int n = a.Rows;
        gpu.GemmF64(transA, transB, n, n, n, 1.0, ((CudaTensor)a).Pointer, n, ((CudaTensor)b).Pointer, n, 0.0, ((CudaTensor)c).Pointer, n, "test product");
    }

    private static (int Equal, int Worst) Agreement(sbyte[] expected, sbyte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int equal = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            int difference = Math.Abs(expected[i] - actual[i]);
            equal += difference == 0 ? 1 : 0;
            worst = Math.Max(worst, difference);
        }

        return (equal, worst);
    }

    private static void AssertBitEqual(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Equals(actual[i]), $"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
        }
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double rms = Math.Sqrt(expected.Sum(e => e * e) / Math.Max(1, expected.Length));
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]) / (Math.Abs(expected[i]) + rms);
            Assert.True(error <= tolerance, $"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (relative {error:E2})");
        }
    }

    /// <summary>A golden file: under tests/golden of the checkout above the test assembly or the working folder, or in $ORLEANSQUANT_GOLDEN.</summary>
    private static string Golden(string name)
    {
        var roots = new[] { Environment.GetEnvironmentVariable("ORLEANSQUANT_GOLDEN"), AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (string? root in roots)
        {
            for (var folder = root is null ? null : new DirectoryInfo(root); folder is not null; folder = folder.Parent)
            {
                foreach (string candidate in new[] { Path.Combine(folder.FullName, name), Path.Combine(folder.FullName, "tests", "golden", name) })
                {
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }

        throw new FileNotFoundException($"golden file {name} not found under tests/golden above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}");
    }
}

internal static class OwnedTensors
{
    /// <summary>Adds a tensor to a disposal list and returns it.</summary>
    public static DeviceTensor Keep(this List<DeviceTensor> owned, DeviceTensor tensor)
    {
        owned.Add(tensor);
        return tensor;
    }
}
