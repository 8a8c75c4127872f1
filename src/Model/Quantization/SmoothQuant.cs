using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// SmoothQuant (Xiao et al. 2023, eq. 4): s_j = max|X_j|^α / max|W_j|^(1−α) moves the difficulty of activation
/// outlier channels into the weights. X/s is folded into the preceding RMSNorm gain, W·s into the columns of every
/// linear that reads it; the calibration Hessian follows as S⁻¹·H·S⁻¹ (<see cref="LinearInputStatistics.Hessian"/>),
/// so one calibration pass serves both steps. The scales are host maths on two vectors; the weights and norms are
/// scaled where they live.
/// </summary>
public static class SmoothQuant
{
    private const double Floor = 1e-5;

    /// <param name="activationAbsMax">max |x_j| over the calibration tokens, per input channel.</param>
    /// <param name="weightAbsMax">max |W[:, j]| over every linear reading this input (<see cref="WeightAbsMax"/>).</param>
    public static double[] Scales(ReadOnlySpan<double> activationAbsMax, ReadOnlySpan<double> weightAbsMax, double strength)
    {
        if (weightAbsMax.Length != activationAbsMax.Length)
        {
            throw new ArgumentException($"SmoothQuant: {weightAbsMax.Length} weight column maxima for {activationAbsMax.Length} input channels; expected one per channel", nameof(weightAbsMax));
        }

        var scales = new double[activationAbsMax.Length];
        for (int c = 0; c < scales.Length; c++)
        {
            double s = Math.Pow(Math.Max(activationAbsMax[c], Floor), strength) / Math.Pow(Math.Max(weightAbsMax[c], Floor), 1 - strength);
            scales[c] = Math.Max(s, Floor);
        }

        return scales;
    }

    /// <summary>max |W[:, j]| per input column over the Float32 weights of every linear reading one input, on their device.</summary>
    public static double[] WeightAbsMax(IComputeDevice device, IReadOnlyCollection<DeviceTensor> weights)
    {
        int columns = weights.First().Columns;
        using var maxima = device.Allocate(TensorType.Float32, 1, columns);
        foreach (var w in weights)
        {
            device.AccumulateAbsMax(w, maxima);
        }

        // A max of floats is a float: widening afterwards equals taking it in double.
        return Array.ConvertAll(maxima.ToArray<float>(), v => (double)v);
    }

    /// <summary>W·diag(s) in double: a fresh Float64 copy of the Float32 <paramref name="weights"/>, scaled when <paramref name="scales"/> is given.</summary>
    public static DeviceTensor SmoothedWeights(IComputeDevice device, DeviceTensor weights, DeviceTensor? scales)
    {
        var result = DeviceCopies.Widen(device, weights);
        try
        {
            if (scales is not null)
            {
                device.ScaleColumns(result, scales);
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>An RMSNorm gain divided by s, in double and rounded once to float: a fresh Float32 <c>[1, n]</c>.</summary>
    public static DeviceTensor SmoothedNorm(IComputeDevice device, DeviceTensor gains, DeviceTensor? inverseScales)
    {
        using var wide = SmoothedWeights(device, gains, inverseScales);
        return DeviceCopies.Narrow(device, wide);
    }
}
