namespace OrleansQuant.Model.Quantization;

/// <summary>
/// GPTQ (Frantar et al. 2023, Algorithm 1): quantizes a linear's columns one at a time, pushing each column's
/// rounding error onto the columns not yet quantized through the Cholesky factor of the inverse Hessian, with
/// lazy block updates. int8, symmetric, one scale per output channel.
/// </summary>
public static class Gptq
{
    /// <param name="weights">W <c>[rows, columns]</c> (already smoothed), double.</param>
    /// <param name="hessian">H = 2/n·XᵀX <c>[columns, columns]</c> of the (smoothed) inputs; not modified.</param>
    /// <param name="parallelism">
    /// the threads this layer may use: its device's <c>Parallelism</c> when it runs for a device that shares the
    /// machine; all cores when omitted. Rows are independent, so the result does not depend on it.
    /// </param>
    public static QuantizedWeights Quantize(ReadOnlySpan<double> weights, int rows, int columns, ReadOnlySpan<double> hessian, GptqOptions options,
        ParallelOptions? parallelism = null)
    {
        parallelism ??= new ParallelOptions();
        var w = weights.ToArray();
        var h = hessian.ToArray();
        int n = columns;

        // Inputs that never fired carry no information: pin their Hessian diagonal and drop their weights.
        for (int c = 0; c < n; c++)
        {
            if (h[c * n + c] == 0)
            {
                h[c * n + c] = 1;
                for (int o = 0; o < rows; o++)
                {
                    w[o * n + c] = 0;
                }
            }
        }

        var scales = new double[rows];
        for (int o = 0; o < rows; o++)
        {
            scales[o] = Int8Rounding.ChannelScale(w.AsSpan(o * n, n));
        }

        // Act-order: quantize the columns with the largest Hessian diagonal (most activation energy) first.
        int[]? order = null;
        if (options.ActOrder)
        {
            order = Enumerable.Range(0, n).OrderByDescending(c => h[c * n + c]).ToArray();
            w = PermuteColumns(w, rows, n, order);
            h = PermuteSymmetric(h, n, order);
        }

        double meanDiagonal = 0;
        for (int c = 0; c < n; c++)
        {
            meanDiagonal += h[c * n + c];
        }

        double damping = options.DampeningFraction * meanDiagonal / n;
        for (int c = 0; c < n; c++)
        {
            h[c * n + c] += damping;
        }

        var hinv = CholeskyMath.UpperOfInverse(h, n, parallelism);
        var q = new double[rows * n];
        for (int i1 = 0; i1 < n; i1 += options.BlockSize)
        {
            int i2 = Math.Min(i1 + options.BlockSize, n), width = i2 - i1;
            var errors = new double[rows * width];
            Parallel.For(0, rows, parallelism, o => QuantizeBlockRow(w.AsSpan(o * n, n), q.AsSpan(o * n, n), errors.AsSpan(o * width, width), scales[o], hinv, n, i1, i2));

            // Lazy batch update: the block's accumulated errors reach the remaining columns in one product.
            if (i2 < n)
            {
                Parallel.For(0, rows, parallelism, o =>
                {
                    var row = w.AsSpan(o * n + i2, n - i2);
                    for (int j = 0; j < width; j++)
                    {
                        double e = errors[o * width + j];
                        if (e != 0)
                        {
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(hinv.AsSpan((i1 + j) * n + i2, n - i2), -e, row, row);
                        }
                    }
                });
            }
        }

        if (order is not null)
        {
            q = PermuteColumns(q, rows, n, Inverse(order));
        }

        var values = new sbyte[rows * n];
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = (sbyte)q[k];
        }

        return new QuantizedWeights(rows, n, values, scales.Select(s => (float)s).ToArray());
    }

    // One output row through one block: each column is rounded, and its error, divided by the pivot, is spread over
    // the block's later columns along the inverse Hessian's Cholesky row.
    private static void QuantizeBlockRow(Span<double> w, Span<double> q, Span<double> errors, double scale, double[] hinv, int n, int i1, int i2)
    {
        for (int i = i1; i < i2; i++)
        {
            double value = w[i];
            double level = Int8Rounding.Quantize(value, scale);
            q[i] = level;
            double e = (value - level * scale) / hinv[i * n + i];
            errors[i - i1] = e;
            for (int j = i + 1; j < i2; j++)
            {
                w[j] -= e * hinv[i * n + j];
            }
        }
    }

    private static double[] PermuteColumns(double[] a, int rows, int columns, int[] order)
    {
        var result = new double[a.Length];
        for (int o = 0; o < rows; o++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[o * columns + c] = a[o * columns + order[c]];
            }
        }

        return result;
    }

    private static double[] PermuteSymmetric(double[] h, int n, int[] order)
    {
        var result = new double[h.Length];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                result[i * n + j] = h[order[i] * n + order[j]];
            }
        }

        return result;
    }

    private static int[] Inverse(int[] order)
    {
        var inverse = new int[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            inverse[order[i]] = i;
        }

        return inverse;
    }
}
