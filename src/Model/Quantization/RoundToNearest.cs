namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Round-to-nearest int8 per output channel: the baseline GPTQ is measured against
/// (Frantar et al. 2023, §5 "RTN"). Each weight is rounded on its own, ignoring the inputs.
/// </summary>
public static class RoundToNearest
{
    public static QuantizedWeights Quantize(ReadOnlySpan<double> weights, int rows, int columns)
    {
        var values = new sbyte[rows * columns];
        var scales = new float[rows];
        for (int o = 0; o < rows; o++)
        {
            var row = weights.Slice(o * columns, columns);
            double scale = Int8Rounding.ChannelScale(row);
            scales[o] = (float)scale;
            for (int i = 0; i < columns; i++)
            {
                values[o * columns + i] = (sbyte)Int8Rounding.Quantize(row[i], scale);
            }
        }

        return new QuantizedWeights(rows, columns, values, scales);
    }
}
