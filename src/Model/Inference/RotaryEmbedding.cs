namespace OrleansQuant.Model.Inference;

/// <summary>
/// Inverse frequencies of rotary position embeddings (Su et al. 2021, RoFormer §3.4), with the Llama 3 long-context
/// rescaling, computed in float32 exactly as transformers' <c>_compute_default_rope_parameters</c> and
/// <c>_compute_llama3_parameters</c> do, so positions rotate identically.
/// </summary>
public static class RotaryEmbedding
{
    public static float[] InverseFrequencies(ModelConfig config)
    {
        int dim = config.HeadDim;
        var frequencies = new float[dim / 2];
        for (int i = 0; i < frequencies.Length; i++)
        {
            float exponent = (float)(2 * i) / dim;
            frequencies[i] = 1f / MathF.Pow((float)config.RopeTheta, exponent);
        }

        if (config.RopeScaling is { } scaling)
        {
            ApplyLlama3Scaling(frequencies, scaling);
        }

        return frequencies;
    }

    // Long wavelengths (beyond the original context) are slowed by `factor`, short ones kept, and the band
    // between blended smoothly (Llama 3 report, §3.4 "long context").
    private static void ApplyLlama3Scaling(float[] frequencies, RopeScaling scaling)
    {
        float factor = (float)scaling.Factor, low = (float)scaling.LowFreqFactor, high = (float)scaling.HighFreqFactor;
        float context = scaling.OriginalMaxPositionEmbeddings;
        float lowFrequencyWavelength = context / low, highFrequencyWavelength = context / high;
        for (int i = 0; i < frequencies.Length; i++)
        {
            float wavelength = 2f * MathF.PI / frequencies[i];
            float scaled = wavelength > lowFrequencyWavelength ? frequencies[i] / factor : frequencies[i];
            bool medium = !(wavelength < highFrequencyWavelength) && !(wavelength > lowFrequencyWavelength);
            if (medium)
            {
                float smooth = (context / wavelength - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }

            frequencies[i] = scaled;
        }
    }
}
