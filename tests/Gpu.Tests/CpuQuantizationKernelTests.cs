using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// The CPU device's quantization steps (SmoothQuant, Xiao et al. 2023; GPTQ, Frantar et al. 2023; round-to-nearest)
/// against straightforward host loops in double.
/// </summary>
public sealed class CpuQuantizationKernelTests
{
    private readonly CpuDevice _device = new();

    [Fact]
    public void ConvertWidensExactlyAndNarrowsToNearest()
    {
        float[] floats = [1.5f, -0.1f, 3e38f, 1e-40f, 0f, -7.25f];
        using var narrow = _device.UploadNew<float>(floats, 2, 3);
        using var wide = _device.Allocate(TensorType.Float64, 2, 3);
        _device.Convert(narrow, wide);
        Assert.Equal(Array.ConvertAll(floats, v => (double)v), wide.ToArray<double>());

        double[] doubles = [0.1, 1 + 1e-12, -2.5, 1e300, 3.0000001, -0.0];
        using var source = _device.UploadNew<double>(doubles, 3, 2);
        using var target = _device.Allocate(TensorType.Float32, 3, 2);
        _device.Convert(source, target);
        Assert.Equal(Array.ConvertAll(doubles, v => (float)v), target.ToArray<float>());

        using var ints = _device.Allocate(TensorType.Int32, 2, 3);
        Assert.Throws<ArgumentException>(() => _device.Convert(narrow, ints));
    }

    [Fact]
    public void ScaleColumnsMultipliesEveryRowByTheColumnScales()
    {
        const int rows = 5, columns = 7;
        var random = new Random(1);
        double[] x = Values(random, rows * columns), s = Values(random, columns);
        using var wide = _device.UploadNew<double>(x, rows, columns);
        using var wideScales = _device.UploadVector<double>(s);
        _device.ScaleColumns(wide, wideScales);
        Assert.Equal(Enumerable.Range(0, x.Length).Select(k => x[k] * s[k % columns]), wide.ToArray<double>());

        float[] xf = Array.ConvertAll(x, v => (float)v), sf = Array.ConvertAll(s, v => (float)v);
        using var narrow = _device.UploadNew<float>(xf, rows, columns);
        using var narrowScales = _device.UploadVector<float>(sf);
        _device.ScaleColumns(narrow, narrowScales);
        Assert.Equal(Enumerable.Range(0, xf.Length).Select(k => xf[k] * sf[k % columns]), narrow.ToArray<float>());

        Assert.Throws<ArgumentException>(() => _device.ScaleColumns(wide, narrowScales));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SymmetricFromUpperMirrorsTheUpperTriangleAndScales(bool scaled)
    {
        const int n = 9;
        const double factor = 2.0 / 37;
        var random = new Random(2);
        double[] gram = Values(random, n * n), r = Array.ConvertAll(Values(random, n), v => Math.Abs(v) + 0.1);

        // Below the diagonal, what AccumulateGram may leave there: anything.
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                gram[i * n + j] = double.NaN;
            }
        }

        using var g = _device.UploadNew<double>(gram, n, n);
        using var inverse = scaled ? _device.UploadVector<double>(r) : null;
        using var h = _device.Allocate(TensorType.Float64, n, n);
        _device.SymmetricFromUpper(g, factor, inverse, h);
        double[] actual = h.ToArray<double>();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = factor * gram[Math.Min(i, j) * n + Math.Max(i, j)] * (scaled ? r[i] * r[j] : 1);
                Assert.Equal(expected, actual[i * n + j], 1e-15);
                Assert.Equal(actual[j * n + i], actual[i * n + j]);
            }
        }

        Assert.Throws<ArgumentException>(() => _device.SymmetricFromUpper(g, factor, inverse, g));
    }

    [Fact]
    public void DiagonalReadsAndAddToDiagonalAddsTheDiagonalOnly()
    {
        const int n = 4;
        double[] a = Values(new Random(3), n * n), add = [1, 2, 3, 4];
        using var square = _device.UploadNew<double>(a, n, n);
        using var addend = _device.UploadVector<double>(add);
        using var diagonal = _device.Allocate(TensorType.Float64, 1, n);
        _device.AddToDiagonal(square, addend);
        _device.Diagonal(square, diagonal);
        var expected = a.ToArray();
        for (int i = 0; i < n; i++)
        {
            expected[i * n + i] += add[i];
        }

        Assert.Equal(expected, square.ToArray<double>());
        Assert.Equal(Enumerable.Range(0, n).Select(i => expected[i * n + i]), diagonal.ToArray<double>());
    }

    [Fact]
    public void PermutationsGatherColumnsAndSymmetricEntries()
    {
        const int rows = 3, n = 6;
        int[] order = [4, 0, 5, 2, 1, 3];
        double[] x = Values(new Random(4), rows * n);
        using var permutation = _device.UploadVector<int>(order);

        using var wide = _device.UploadNew<double>(x, rows, n);
        using var widePermuted = _device.Allocate(TensorType.Float64, rows, n);
        _device.PermuteColumns(wide, permutation, widePermuted);
        Assert.Equal(Enumerable.Range(0, x.Length).Select(k => x[k / n * n + order[k % n]]), widePermuted.ToArray<double>());

        sbyte[] codes = Enumerable.Range(0, rows * n).Select(k => (sbyte)(k * 7 - 60)).ToArray();
        using var int8 = _device.UploadNew<sbyte>(codes, rows, n);
        using var int8Permuted = _device.Allocate(TensorType.Int8, rows, n);
        _device.PermuteColumns(int8, permutation, int8Permuted);
        Assert.Equal(Enumerable.Range(0, codes.Length).Select(k => codes[k / n * n + order[k % n]]), int8Permuted.ToArray<sbyte>());

        // The inverse permutation undoes it.
        var inverse = new int[n];
        for (int c = 0; c < n; c++)
        {
            inverse[order[c]] = c;
        }

        using var inversePermutation = _device.UploadVector<int>(inverse);
        using var restored = _device.Allocate(TensorType.Int8, rows, n);
        _device.PermuteColumns(int8Permuted, inversePermutation, restored);
        Assert.Equal(codes, restored.ToArray<sbyte>());

        double[] a = Values(new Random(5), n * n);
        using var square = _device.UploadNew<double>(a, n, n);
        using var permutedSquare = _device.Allocate(TensorType.Float64, n, n);
        _device.PermuteSymmetric(square, permutation, permutedSquare);
        Assert.Equal(Enumerable.Range(0, n * n).Select(k => a[order[k / n] * n + order[k % n]]), permutedSquare.ToArray<double>());

        using var repeated = _device.UploadVector<int>([4, 0, 5, 2, 1, 4]);
        var error = Assert.Throws<ArgumentException>(() => _device.PermuteColumns(wide, repeated, widePermuted));
        Assert.Contains("permutation", error.Message);
    }

    [Fact]
    public void CholeskyInverseUpperGivesAnUpperFactorOfTheInverse()
    {
        // 300 columns: enough that the factorization fans its rows out over threads.
        const int n = 300;
        double[] a = RandomSpd(new Random(6), n);
        using var square = _device.UploadNew<double>(a, n, n);
        _device.CholeskyInverseUpper(square);
        double[] u = square.ToArray<double>();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                u[i * n + j] = 0;
            }
        }

        // Uᵀ·U = A⁻¹, so Uᵀ·U·A = I.
        var uTu = new double[n * n];
        for (int k = 0; k < n; k++)
        {
            for (int i = k; i < n; i++)
            {
                double uki = u[k * n + i];
                for (int j = k; j < n; j++)
                {
                    uTu[i * n + j] += uki * u[k * n + j];
                }
            }
        }

        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += uTu[i * n + k] * a[k * n + j];
                }

                worst = Math.Max(worst, Math.Abs(sum - (i == j ? 1 : 0)));
            }
        }

        Assert.True(worst <= 1e-9, $"Uᵀ·U·A differs from the identity by {worst:E2}; expected ≤ 1e-9");
    }

    [Fact]
    public void CholeskyInverseUpperNamesTheFailingPivotOfAMatrixThatIsNotPositiveDefinite()
    {
        // Positive definite but for the last input, which is a copy of the one before it: its pivot is zero.
        const int n = 5;
        double[] a = RandomSpd(new Random(7), n);
        for (int k = 0; k < n; k++)
        {
            a[(n - 1) * n + k] = a[(n - 2) * n + k];
        }

        for (int k = 0; k < n; k++)
        {
            a[k * n + n - 1] = a[k * n + n - 2];
        }

        a[(n - 1) * n + n - 1] = a[(n - 2) * n + n - 2] - 1;
        using var square = _device.UploadNew<double>(a, n, n);
        var error = Assert.Throws<ArithmeticException>(() => _device.CholeskyInverseUpper(square));
        Assert.Contains("not positive definite: pivot", error.Message);
        Assert.Contains("more dampening or calibration data is needed", error.Message);

        // The factorization runs in reversed order, so it fails at the dependent pair's lower index, named in A's order.
        Assert.Contains("pivot 3 is", error.Message);
    }

    [Fact]
    public void ChannelScalesAndQuantizeRowsRoundHalfToEvenAndClamp()
    {
        // Row 0: max 127 gives scale 1, so the values are the levels before rounding. Row 1: all zero.
        double[] w = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -127, 127, 3.4999, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        using var weights = _device.UploadNew<double>(w, 2, 10);
        using var scales = _device.Allocate(TensorType.Float64, 1, 2);
        using var quantized = _device.Allocate(TensorType.Int8, 2, 10);
        _device.ChannelScales(weights, scales);
        Assert.Equal(new[] { 1.0, 1e-8 }, scales.ToArray<double>());
        _device.QuantizeRows(weights, scales, quantized);
        Assert.Equal(new sbyte[] { 0, 2, 2, 0, -2, -2, 126, -127, 127, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, quantized.ToArray<sbyte>());

        // With a scale smaller than max / 127 the levels clamp to ±127, never −128.
        using var small = _device.UploadVector<double>([0.5, 0.5]);
        _device.QuantizeRows(weights, small, quantized);
        Assert.Equal(new sbyte[] { 1, 3, 5, -1, -3, -5, 127, -127, 127, 7 }, quantized.ToArray<sbyte>()[..10]);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(4)]
    public void BlocksAndPropagationEqualColumnByColumnGptq(int blockSize)
    {
        const int rows = 6, n = 13;
        var random = new Random(8);
        double[] w = Values(random, rows * n);
        double[] a = RandomSpd(random, n);
        using var upper = _device.UploadNew<double>(a, n, n);
        _device.CholeskyInverseUpper(upper);
        double[] u = upper.ToArray<double>();

        // Fine scales, so that rounding errors are large enough to matter for later columns.
        double[] s = Enumerable.Range(0, rows).Select(r => 0.05 + 0.01 * r).ToArray();

        // The reference: every column's error reaches every later column at once (Algorithm 1 without lazy batches).
        var expectedW = w.ToArray();
        var expectedQ = new sbyte[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++)
            {
                double value = expectedW[r * n + i];
                double level = Math.Clamp(Math.Round(value / s[r], MidpointRounding.ToEven), -127, 127);
                expectedQ[r * n + i] = (sbyte)level;
                double e = (value - level * s[r]) / u[i * n + i];
                for (int j = i + 1; j < n; j++)
                {
                    expectedW[r * n + j] -= e * u[i * n + j];
                }
            }
        }

        using var weights = _device.UploadNew<double>(w, rows, n);
        using var scales = _device.UploadVector<double>(s);
        using var quantized = _device.Allocate(TensorType.Int8, rows, n);
        for (int start = 0; start < n; start += blockSize)
        {
            int width = Math.Min(blockSize, n - start);
            using var errors = _device.Allocate(TensorType.Float64, rows, width);
            _device.GptqQuantizeBlock(weights, scales, upper, start, width, quantized, errors);
            _device.GptqPropagate(weights, errors, upper, start);
        }

        Assert.Equal(expectedQ, quantized.ToArray<sbyte>());
        double[] actualW = weights.ToArray<double>();
        for (int k = 0; k < actualW.Length; k++)
        {
            Assert.Equal(expectedW[k], actualW[k], 1e-12);
        }
    }

    [Fact]
    public void QuadraticErrorSumsDeltaTransposeHDeltaOverRows()
    {
        const int rows = 4, n = 7;
        var random = new Random(9);
        double[] w = Values(random, rows * n), h = RandomSpd(random, n), s = [0.01, 0.02, 0.03, 0.04];
        sbyte[] q = Enumerable.Range(0, rows * n).Select(k => (sbyte)(w[k] / s[k / n])).ToArray();
        double expected = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    expected += (w[r * n + i] - q[r * n + i] * s[r]) * h[i * n + j] * (w[r * n + j] - q[r * n + j] * s[r]);
                }
            }
        }

        using var weights = _device.UploadNew<double>(w, rows, n);
        using var quantized = _device.UploadNew<sbyte>(q, rows, n);
        using var scales = _device.UploadVector<double>(s);
        using var hessian = _device.UploadNew<double>(h, n, n);
        using var result = _device.Allocate(TensorType.Float64, 1, 1);
        _device.QuadraticError(weights, quantized, scales, hessian, result);
        Assert.Equal(expected, result.ToArray<double>()[0], Math.Abs(expected) * 1e-12);
    }

    private static double[] Values(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();

    /// <summary>B·Bᵀ + n·I for a random B: symmetric positive definite and well conditioned.</summary>
    private static double[] RandomSpd(Random random, int n)
    {
        double[] b = Values(random, n * n), a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = i == j ? n : 0;
                for (int k = 0; k < n; k++)
                {
                    sum += b[i * n + k] * b[j * n + k];
                }

                a[i * n + j] = sum;
            }
        }

        return a;
    }
}
