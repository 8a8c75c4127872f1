namespace OrleansQuant.Model.Quantization;

/// <summary>
/// A linear's weights as int8 with one symmetric scale per output channel: W ≈ Values[o, i] · Scales[o].
/// Row-major <c>[Rows, Columns]</c>, the layout of the <c>weight</c> tensor in a compressed-tensors checkpoint.
/// </summary>
public sealed record QuantizedWeights(int Rows, int Columns, sbyte[] Values, float[] Scales)
{
    /// <summary>The largest magnitude a value takes: symmetric int8 leaves out −128, as llm-compressor does.</summary>
    public const int MaxLevel = 127;

    public double[] Dequantize()
    {
        var result = new double[Values.Length];
        for (int o = 0; o < Rows; o++)
        {
            for (int i = 0; i < Columns; i++)
            {
                result[o * Columns + i] = Values[o * Columns + i] * (double)Scales[o];
            }
        }

        return result;
    }
}
