using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

// The steps of SmoothQuant (Xiao et al. 2023), GPTQ (Frantar et al. 2023) and round-to-nearest on a layer's weights, in
// double, bit for bit what the host algorithms computed before they became device work (round half to even, clamp
// ±127), so the golden tests hold. Each parallel item owns its outputs, so results do not depend on the thread count.
public sealed partial class CpuDevice
{
    // Symmetric int8 leaves out −128, as llm-compressor does; a zero row still gets a usable scale.
    private const int MaxLevel = 127;
    private const double MinWeightScale = 1e-8;

    public void Convert(DeviceTensor source, DeviceTensor destination)
    {
        RequireShape(destination, source.Rows, source.Columns, nameof(Convert) + " destination");
        switch (source.Type, destination.Type)
        {
            case (TensorType.Float32, TensorType.Float64):
                ConvertRows<float, double>(source, destination, static (from, to) =>
                {
                    for (int c = 0; c < from.Length; c++)
                    {
                        to[c] = from[c];
                    }
                });
                break;
            case (TensorType.Float64, TensorType.Float32):
                ConvertRows<double, float>(source, destination, static (from, to) =>
                {
                    for (int c = 0; c < from.Length; c++)
                    {
                        to[c] = (float)from[c];
                    }
                });
                break;
            case (TensorType.Float32, TensorType.BFloat16):
                ConvertRows<float, BFloat16>(source, destination, static (from, to) => BFloat16.Narrow(from, to));
                break;
            case (TensorType.BFloat16, TensorType.Float32):
                ConvertRows<BFloat16, float>(source, destination, static (from, to) => BFloat16.Widen(from, to));
                break;
            case (TensorType.BFloat16, TensorType.Float64):
                ConvertRows<BFloat16, double>(source, destination, static (from, to) =>
                {
                    for (int c = 0; c < from.Length; c++)
                    {
                        to[c] = from[c].ToSingle();
                    }
                });
                break;
            case (TensorType.Float64, TensorType.BFloat16):
                ConvertRows<double, BFloat16>(source, destination, static (from, to) =>
                {
                    for (int c = 0; c < from.Length; c++)
                    {
                        to[c] = BFloat16.FromDouble(from[c]);
                    }
                });
                break;
            default:
                throw new ArgumentException($"{nameof(Convert)}: expected two of Float32, Float64 and BFloat16, got {source} → {destination}");
        }
    }

    private delegate void RowConversion<TFrom, TTo>(ReadOnlySpan<TFrom> from, Span<TTo> to);

    private void ConvertRows<TFrom, TTo>(DeviceTensor source, DeviceTensor destination, RowConversion<TFrom, TTo> convert)
        where TFrom : unmanaged
        where TTo : unmanaged
    {
        TFrom[] from = Own(source).Array<TFrom>();
        TTo[] to = Own(destination).Array<TTo>();
        int width = source.Columns;
        ForEachRow(source.Rows, width, r => convert(from.AsSpan(r * width, width), to.AsSpan(r * width, width)));
    }

    public void ScaleColumns(DeviceTensor x, DeviceTensor scales)
    {
        RequireVector(scales, x.Columns, x.Type, nameof(ScaleColumns) + " scales");
        int width = x.Columns;
        switch (x.Type)
        {
            case TensorType.Float32:
            {
                float[] values = Own(x).Array<float>(), factors = Own(scales).Array<float>();
                ForEachRow(x.Rows, width, r => TensorPrimitives.Multiply(values.AsSpan(r * width, width), factors, values.AsSpan(r * width, width)));
                break;
            }

            case TensorType.Float64:
            {
                double[] values = Own(x).Array<double>(), factors = Own(scales).Array<double>();
                ForEachRow(x.Rows, width, r => TensorPrimitives.Multiply<double>(values.AsSpan(r * width, width), factors, values.AsSpan(r * width, width)));
                break;
            }

            default:
                throw new ArgumentException($"{nameof(ScaleColumns)}: expected Float32 or Float64, got {x}");
        }
    }

    public void SymmetricFromUpper(DeviceTensor gram, double factor, DeviceTensor? inverseScales, DeviceTensor output)
    {
        RequireSquare(gram, nameof(SymmetricFromUpper) + " gram");
        RequireSquare(output, nameof(SymmetricFromUpper) + " output");
        RequireShape(output, gram.Rows, gram.Columns, nameof(SymmetricFromUpper) + " output");
        if (ReferenceEquals(gram, output))
        {
            throw new ArgumentException($"{nameof(SymmetricFromUpper)}: gram and output must be distinct squares, got {gram} twice");
        }

        int n = gram.Rows;
        if (inverseScales is not null)
        {
            RequireVector(inverseScales, n, TensorType.Float64, nameof(SymmetricFromUpper) + " inverse scales");
        }

        double[] g = Own(gram).Array<double>(), h = Own(output).Array<double>();
        double[]? r = inverseScales is null ? null : Own(inverseScales).Array<double>();

        // Each cell is computed from (min, max), the scale of the lower index first, so H is exactly symmetric.
        ForEachRow(n, n, i =>
        {
            var row = h.AsSpan(i * n, n);
            for (int j = 0; j < i; j++)
            {
                row[j] = r is null ? factor * g[j * n + i] : factor * g[j * n + i] * r[j] * r[i];
            }

            for (int j = i; j < n; j++)
            {
                row[j] = r is null ? factor * g[i * n + j] : factor * g[i * n + j] * r[i] * r[j];
            }
        });
    }

    public void Diagonal(DeviceTensor square, DeviceTensor diagonal)
    {
        RequireSquare(square, nameof(Diagonal) + " square");
        int n = square.Rows;
        RequireVector(diagonal, n, TensorType.Float64, nameof(Diagonal) + " diagonal");
        double[] a = Own(square).Array<double>();
        var d = Own(diagonal).Span<double>();
        for (int i = 0; i < n; i++)
        {
            d[i] = a[i * n + i];
        }
    }

    public void AddToDiagonal(DeviceTensor square, DeviceTensor addend)
    {
        RequireSquare(square, nameof(AddToDiagonal) + " square");
        int n = square.Rows;
        RequireVector(addend, n, TensorType.Float64, nameof(AddToDiagonal) + " addend");
        double[] a = Own(square).Array<double>();
        var add = Own(addend).Span<double>();
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] += add[i];
        }
    }

    public void PermuteColumns(DeviceTensor x, DeviceTensor order, DeviceTensor output)
    {
        RequireShape(output, x.Rows, x.Columns, nameof(PermuteColumns) + " output");
        RequireType(output, x.Type, nameof(PermuteColumns) + " output");
        var permutation = Permutation(order, x.Columns, nameof(PermuteColumns));
        switch (x.Type)
        {
            case TensorType.Float32:
                Gather(Own(x).Array<float>(), permutation, Own(output).Array<float>(), x.Rows);
                break;
            case TensorType.Float64:
                Gather(Own(x).Array<double>(), permutation, Own(output).Array<double>(), x.Rows);
                break;
            case TensorType.Int8:
                Gather(Own(x).Array<sbyte>(), permutation, Own(output).Array<sbyte>(), x.Rows);
                break;
            case TensorType.Int32:
                Gather(Own(x).Array<int>(), permutation, Own(output).Array<int>(), x.Rows);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(x), x.Type, $"{nameof(PermuteColumns)}: unknown tensor type");
        }
    }

    public void PermuteSymmetric(DeviceTensor square, DeviceTensor order, DeviceTensor output)
    {
        RequireSquare(square, nameof(PermuteSymmetric) + " square");
        RequireSquare(output, nameof(PermuteSymmetric) + " output");
        RequireShape(output, square.Rows, square.Columns, nameof(PermuteSymmetric) + " output");
        if (ReferenceEquals(square, output))
        {
            throw new ArgumentException($"{nameof(PermuteSymmetric)}: square and output must be distinct, got {square} twice");
        }

        int n = square.Rows;
        int[] permutation = Permutation(order, n, nameof(PermuteSymmetric));
        double[] a = Own(square).Array<double>(), result = Own(output).Array<double>();
        ForEachRow(n, n, i =>
        {
            int source = permutation[i] * n;
            var row = result.AsSpan(i * n, n);
            for (int j = 0; j < n; j++)
            {
                row[j] = a[source + permutation[j]];
            }
        });
    }

    public void CholeskyInverseUpper(DeviceTensor square)
    {
        RequireSquare(square, nameof(CholeskyInverseUpper));
        int n = square.Rows;
        double[] pivots = ArrayPool<double>.Shared.Rent(n);
        try
        {
            CpuCholesky.InverseUpperInPlace(Own(square).Array<double>(), n, pivots, _parallel);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(pivots);
        }
    }

    public void ChannelScales(DeviceTensor weights, DeviceTensor scales)
    {
        RequireType(weights, TensorType.Float64, nameof(ChannelScales) + " weights");
        RequireVector(scales, weights.Rows, TensorType.Float64, nameof(ChannelScales) + " scales");
        double[] w = Own(weights).Array<double>(), s = Own(scales).Array<double>();
        int n = weights.Columns;

        // MaxMagnitude propagates NaN as Math.Max does, so a poisoned row still shows in its scale.
        ForEachRow(weights.Rows, n, r => s[r] = Math.Max((n == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude<double>(w.AsSpan(r * n, n)))) / MaxLevel, MinWeightScale));
    }

    public void QuantizeRows(DeviceTensor weights, DeviceTensor scales, DeviceTensor quantized)
    {
        RequireType(weights, TensorType.Float64, nameof(QuantizeRows) + " weights");
        RequireVector(scales, weights.Rows, TensorType.Float64, nameof(QuantizeRows) + " scales");
        RequireShape(quantized, weights.Rows, weights.Columns, nameof(QuantizeRows) + " quantized");
        RequireType(quantized, TensorType.Int8, nameof(QuantizeRows) + " quantized");
        double[] w = Own(weights).Array<double>(), s = Own(scales).Array<double>();
        sbyte[] q = Own(quantized).Array<sbyte>();
        int n = weights.Columns;
        ForEachRow(weights.Rows, n, r =>
        {
            double scale = s[r];
            for (int c = r * n, end = c + n; c < end; c++)
            {
                q[c] = (sbyte)Level(w[c], scale);
            }
        });
    }

    public void GptqQuantizeBlock(DeviceTensor weights, DeviceTensor scales, DeviceTensor upper, int start, int width,
        DeviceTensor quantized, DeviceTensor errors)
    {
        const string call = nameof(GptqQuantizeBlock);
        int rows = weights.Rows, n = weights.Columns;
        RequireGptqOperands(weights, upper, call);
        RequireVector(scales, rows, TensorType.Float64, call + " scales");
        RequireShape(quantized, rows, n, call + " quantized");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireShape(errors, rows, width, call + " errors");
        RequireType(errors, TensorType.Float64, call + " errors");
        RequireColumnBlock(start, width, n, call);
        double[] w = Own(weights).Array<double>(), s = Own(scales).Array<double>(), u = Own(upper).Array<double>(), e = Own(errors).Array<double>();
        sbyte[] q = Own(quantized).Array<sbyte>();
        int end = start + width;

        // One output row through one block: each column is rounded, and its error, divided by the pivot, is spread over
        // the block's later columns along the inverse Hessian's Cholesky row.
        ForEachRow(rows, n * width, r =>
        {
            var row = w.AsSpan(r * n, n);
            var rowErrors = e.AsSpan(r * width, width);
            double scale = s[r];
            for (int i = start; i < end; i++)
            {
                double value = row[i];
                double level = Level(value, scale);
                q[r * n + i] = (sbyte)level;
                double error = (value - level * scale) / u[i * n + i];
                rowErrors[i - start] = error;
                var rest = row.Slice(i + 1, end - i - 1);
                TensorPrimitives.MultiplyAdd<double>(u.AsSpan(i * n + i + 1, end - i - 1), -error, rest, rest);
            }
        });
    }

    public void GptqPropagate(DeviceTensor weights, DeviceTensor errors, DeviceTensor upper, int start)
    {
        const string call = nameof(GptqPropagate);
        int rows = weights.Rows, n = weights.Columns, width = errors.Columns;
        RequireGptqOperands(weights, upper, call);
        RequireShape(errors, rows, width, call + " errors");
        RequireType(errors, TensorType.Float64, call + " errors");
        RequireColumnBlock(start, width, n, call);
        double[] w = Own(weights).Array<double>(), e = Own(errors).Array<double>(), u = Own(upper).Array<double>();
        int end = start + width;
        if (end == n)
        {
            return;
        }

        // Lazy batch update: the block's accumulated errors reach the remaining columns in one product, each row adding
        // its errors' contributions in column order.
        ForEachRow(rows, (n - end) * width, r =>
        {
            var rest = w.AsSpan(r * n + end, n - end);
            for (int j = 0; j < width; j++)
            {
                double error = e[r * width + j];
                if (error != 0)
                {
                    TensorPrimitives.MultiplyAdd<double>(u.AsSpan((start + j) * n + end, n - end), -error, rest, rest);
                }
            }
        });
    }

    public void QuadraticError(DeviceTensor weights, DeviceTensor quantized, DeviceTensor scales, DeviceTensor hessian, DeviceTensor result)
    {
        const string call = nameof(QuadraticError);
        int rows = weights.Rows, n = weights.Columns;
        RequireGptqOperands(weights, hessian, call);
        RequireShape(quantized, rows, n, call + " quantized");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireVector(scales, rows, TensorType.Float64, call + " scales");
        RequireVector(result, 1, TensorType.Float64, call + " result");
        double[] w = Own(weights).Array<double>(), s = Own(scales).Array<double>(), h = Own(hessian).Array<double>();
        sbyte[] q = Own(quantized).Array<sbyte>();

        // Rows in parallel into their own slots, summed in row order afterwards: the same total for any thread count.
        double[] perRow = ArrayPool<double>.Shared.Rent(rows);
        try
        {
            Parallel.For(0, rows, _parallel, () => ArrayPool<double>.Shared.Rent(n), (r, _, delta) =>
            {
                double scale = s[r];
                for (int i = 0; i < n; i++)
                {
                    delta[i] = w[r * n + i] - q[r * n + i] * scale;
                }

                // Δᵀ·H·Δ as Σᵢ Δᵢ·(H[i, :]·Δ), one vectorised dot product per row of H.
                var d = delta.AsSpan(0, n);
                double sum = 0;
                for (int i = 0; i < n; i++)
                {
                    if (d[i] != 0)
                    {
                        sum += d[i] * TensorPrimitives.Dot<double>(h.AsSpan(i * n, n), d);
                    }
                }

                perRow[r] = sum;
                return delta;
            }, delta => ArrayPool<double>.Shared.Return(delta));
            double total = 0;
            for (int r = 0; r < rows; r++)
            {
                total += perRow[r];
            }

            Own(result).Span<double>()[0] = total;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(perRow);
        }
    }

    /// <summary>PyTorch's symmetric int8 rounding: clamp(round_half_even(value / scale), −127, 127).</summary>
    private static double Level(double value, double scale) =>
        Math.Clamp(Math.Round(value / scale, MidpointRounding.ToEven), -MaxLevel, MaxLevel);

    /// <summary>Float64 weights <c>[rows, n]</c> and a Float64 square <c>[n, n]</c> over their columns.</summary>
    private static void RequireGptqOperands(DeviceTensor weights, DeviceTensor square, string call)
    {
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireSquare(square, call + " square");
        RequireShape(square, weights.Columns, weights.Columns, call + " square");
    }

    /// <summary>The order vector's elements, checked to be a permutation of <paramref name="columns"/> indices.</summary>
    private int[] Permutation(DeviceTensor order, int columns, string call)
    {
        RequireVector(order, columns, TensorType.Int32, call + " order");
        int[] permutation = Own(order).Array<int>();
        bool[] seen = ArrayPool<bool>.Shared.Rent(columns);
        try
        {
            RequirePermutation(permutation, seen, call + " order");
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(seen);
        }

        return permutation;
    }

    private void Gather<T>(T[] source, int[] order, T[] destination, int rows) where T : unmanaged
    {
        int n = order.Length;
        ForEachRow(rows, n, r =>
        {
            var from = source.AsSpan(r * n, n);
            var to = destination.AsSpan(r * n, n);
            for (int c = 0; c < n; c++)
            {
                to[c] = from[order[c]];
            }
        });
    }
}
