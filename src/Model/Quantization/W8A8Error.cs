using System.Numerics.Tensors;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The error a W8A8 linear makes as served: inputs quantized per token to int8 (after smoothing, if any), weights as
/// stored, against the full-precision product. Relative: ‖Y − Ŷ‖² / ‖Y‖² over the sample rows.
/// Every method takes the threads its caller was given (all cores when omitted).
/// </summary>
public static class W8A8Error
{
    /// <param name="inputs">rows x of the original (unsmoothed) input.</param>
    /// <param name="weights">the original (unsmoothed) W <c>[rows, columns]</c>.</param>
    /// <param name="smoothing">s, when the quantized weights are W·diag(s) and the served input is x/s.</param>
    public static double Relative(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing,
        ParallelOptions? parallelism = null)
    {
        var (error, reference) = Totals(inputs, weights, quantized, smoothing, parallelism ?? new ParallelOptions());
        return reference == 0 ? 0 : error / reference;
    }

    /// <summary>‖Y − Ŷ‖²_F / n: gptq_ref.py's <c>loss_w8a8</c>.</summary>
    public static double MeanSquared(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing,
        ParallelOptions? parallelism = null) =>
        inputs.Count == 0 ? 0 : Totals(inputs, weights, quantized, smoothing, parallelism ?? new ParallelOptions()).Error / inputs.Count;

    private static (double Error, double Reference) Totals(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing,
        ParallelOptions parallelism)
    {
        int columns = quantized.Columns, rows = quantized.Rows;
        double[] w = weights.ToArray(), s = smoothing.ToArray(), dequantized = quantized.Dequantize();
        double error = 0, reference = 0;
        var gate = new Lock();
        Parallel.For(0, inputs.Count, parallelism, () => (Error: 0.0, Reference: 0.0, Exact: new double[columns], Levels: new double[columns]), (t, _, local) =>
        {
            var x = inputs[t];
            for (int i = 0; i < columns; i++)
            {
                local.Exact[i] = x[i];
                local.Levels[i] = s.Length == 0 ? x[i] : x[i] / s[i];
            }

            double tokenScale = Int8Rounding.ChannelScale(local.Levels);
            for (int i = 0; i < columns; i++)
            {
                local.Levels[i] = Int8Rounding.Quantize(local.Levels[i], tokenScale);
            }

            for (int o = 0; o < rows; o++)
            {
                double exact = TensorPrimitives.Dot<double>(w.AsSpan(o * columns, columns), local.Exact);
                double served = TensorPrimitives.Dot<double>(dequantized.AsSpan(o * columns, columns), local.Levels) * tokenScale;
                local.Error += (exact - served) * (exact - served);
                local.Reference += exact * exact;
            }

            return local;
        }, local =>
        {
            lock (gate)
            {
                error += local.Error;
                reference += local.Reference;
            }
        });
        return (error, reference);
    }

    /// <summary>GPTQ's objective for quantized weights Q against W on inputs with Hessian H = 2/n·XᵀX: ½·Σ_rows ΔwᵀHΔw.</summary>
    public static double WeightLoss(ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> hessian,
        ParallelOptions? parallelism = null)
    {
        parallelism ??= new ParallelOptions();
        int n = quantized.Columns;
        double[] w = weights.ToArray(), h = hessian.ToArray();
        double loss = 0;
        var gate = new Lock();
        Parallel.For(0, quantized.Rows, parallelism, () => (Sum: 0.0, Delta: new double[n]), (o, _, local) =>
        {
            for (int i = 0; i < n; i++)
            {
                local.Delta[i] = w[o * n + i] - quantized.Values[o * n + i] * (double)quantized.Scales[o];
            }

            // Δᵀ·H·Δ as Σᵢ Δᵢ·(H[i,:]·Δ), one vectorised dot product per row of H.
            for (int i = 0; i < n; i++)
            {
                if (local.Delta[i] != 0)
                {
                    local.Sum += local.Delta[i] * TensorPrimitives.Dot<double>(h.AsSpan(i * n, n), local.Delta);
                }
            }

            return local;
        }, local =>
        {
            lock (gate)
            {
                loss += local.Sum;
            }
        });
        return loss / 2;
    }
}
