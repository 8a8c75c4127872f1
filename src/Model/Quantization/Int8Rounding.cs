namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Symmetric int8 rounding shared by every quantizer, written to agree bit for bit with PyTorch:
/// scale = max(|w|max / 127, 1e-8); q = clamp(round_half_even(w / scale), −127, 127).
/// </summary>
public static class Int8Rounding
{
    public const double MinScale = 1e-8;

    public static double ChannelScale(ReadOnlySpan<double> row)
    {
        double max = 0;
        foreach (double v in row)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return Math.Max(max / QuantizedWeights.MaxLevel, MinScale);
    }

    public static double Quantize(double value, double scale) =>
        Math.Clamp(Math.Round(value / scale, MidpointRounding.ToEven), -QuantizedWeights.MaxLevel, QuantizedWeights.MaxLevel);
}
