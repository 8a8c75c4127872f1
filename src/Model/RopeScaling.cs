namespace OrleansQuant.Model;

/// <summary>
/// The "llama3" RoPE frequency scaling of Llama 3.1+ (transformers' _compute_llama3_parameters): wavelengths
/// longer than original/low_freq_factor are divided by <see cref="Factor"/>, those shorter than
/// original/high_freq_factor are kept, and the band between is interpolated. The only scaling type supported.
/// </summary>
public sealed record RopeScaling(
    string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    public const string Llama3 = "llama3";
}
