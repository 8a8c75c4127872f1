namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The error a W8A8 linear makes as served: inputs quantized per token to int8 (after smoothing, if any), weights as
/// stored, against the full-precision product. Relative: ‖Y − Ŷ‖² / ‖Y‖² over the sample rows.
/// </summary>
public static class W8A8Error
{
    /// <param name="inputs">rows x of the original (unsmoothed) input.</param>
    /// <param name="weights">the original (unsmoothed) W <c>[rows, columns]</c>.</param>
    /// <param name="smoothing">s, when the quantized weights are W·diag(s) and the served input is x/s.</param>
    public static double Relative(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing)
    {
        var (error, reference) = Totals(inputs, weights, quantized, smoothing);
        return reference == 0 ? 0 : error / reference;
    }

    /// <summary>‖Y − Ŷ‖²_F / n: gptq_ref.py's <c>loss_w8a8</c>.</summary>
    public static double MeanSquared(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing) =>
        inputs.Count == 0 ? 0 : Totals(inputs, weights, quantized, smoothing).Error / inputs.Count;

    private static (double Error, double Reference) Totals(IReadOnlyList<float[]> inputs, ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> smoothing)
    {
        int columns = quantized.Columns, rows = quantized.Rows;
        double[] w = weights.ToArray(), s = smoothing.ToArray();
        double error = 0, reference = 0;
        var gate = new Lock();
        Parallel.For(0, inputs.Count, () => (Error: 0.0, Reference: 0.0, Scaled: new double[columns], Levels: new double[columns]), (t, _, local) =>
        {
            var x = inputs[t];
            for (int i = 0; i < columns; i++)
            {
                local.Scaled[i] = s.Length == 0 ? x[i] : x[i] / s[i];
            }

            double tokenScale = Int8Rounding.ChannelScale(local.Scaled);
            for (int i = 0; i < columns; i++)
            {
                local.Levels[i] = Int8Rounding.Quantize(local.Scaled[i], tokenScale);
            }

            for (int o = 0; o < rows; o++)
            {
                double exact = 0, served = 0;
                for (int i = 0; i < columns; i++)
                {
                    exact += w[o * columns + i] * x[i];
                    served += quantized.Values[o * columns + i] * local.Levels[i];
                }

                served *= tokenScale * quantized.Scales[o];
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
    public static double WeightLoss(ReadOnlySpan<double> weights, QuantizedWeights quantized, ReadOnlySpan<double> hessian)
    {
        int n = quantized.Columns;
        var delta = new double[n];
        double loss = 0;
        for (int o = 0; o < quantized.Rows; o++)
        {
            for (int i = 0; i < n; i++)
            {
                delta[i] = weights[o * n + i] - quantized.Values[o * n + i] * (double)quantized.Scales[o];
            }

            for (int i = 0; i < n; i++)
            {
                if (delta[i] == 0)
                {
                    continue;
                }

                double row = 0;
                var h = hessian.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    row += h[j] * delta[j];
                }

                loss += delta[i] * row;
            }
        }

        return loss / 2;
    }
}
