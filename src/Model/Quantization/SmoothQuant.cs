namespace OrleansQuant.Model.Quantization;

/// <summary>
/// SmoothQuant (Xiao et al. 2023, eq. 4): s_j = max|X_j|^α / max|W_j|^(1−α) moves the difficulty of activation
/// outlier channels into the weights. X/s is folded into the preceding RMSNorm gain, W·s into the columns of every
/// linear that reads it; the calibration Hessian follows as S⁻¹·H·S⁻¹, so one calibration pass serves both steps.
/// </summary>
public static class SmoothQuant
{
    private const double Floor = 1e-5;

    /// <param name="activationAbsMax">max |x_j| over the calibration tokens, per input channel.</param>
    /// <param name="weights">each linear reading this input, <c>[rows, columns]</c> row-major.</param>
    public static double[] Scales(ReadOnlySpan<double> activationAbsMax, IEnumerable<(double[] Values, int Rows)> weights, double strength)
    {
        int columns = activationAbsMax.Length;
        var weightAbsMax = new double[columns];
        foreach (var (values, rows) in weights)
        {
            for (int o = 0; o < rows; o++)
            {
                for (int c = 0; c < columns; c++)
                {
                    weightAbsMax[c] = Math.Max(weightAbsMax[c], Math.Abs(values[o * columns + c]));
                }
            }
        }

        var scales = new double[columns];
        for (int c = 0; c < columns; c++)
        {
            double s = Math.Pow(Math.Max(activationAbsMax[c], Floor), strength) / Math.Pow(Math.Max(weightAbsMax[c], Floor), 1 - strength);
            scales[c] = Math.Max(s, Floor);
        }

        return scales;
    }

    /// <summary>W[:, j] ·= s_j.</summary>
    public static void ScaleColumns(Span<double> weights, int rows, ReadOnlySpan<double> scales)
    {
        int columns = scales.Length;
        for (int o = 0; o < rows; o++)
        {
            var row = weights.Slice(o * columns, columns);
            for (int c = 0; c < columns; c++)
            {
                row[c] *= scales[c];
            }
        }
    }

    /// <summary>H ← S⁻¹·H·S⁻¹: the Hessian of the smoothed inputs X·S⁻¹ without a second calibration pass.</summary>
    public static void ScaleHessian(Span<double> hessian, ReadOnlySpan<double> scales)
    {
        int n = scales.Length;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                hessian[i * n + j] /= scales[i] * scales[j];
            }
        }
    }
}
