using System.Globalization;

namespace OrleansQuant.Model;

/// <summary>
/// Cross-field rules a decoder relies on. Checked after parsing and before writing, so neither a bad file
/// nor a hand-built config can produce layer shapes that do not fit together.
/// </summary>
internal static class ModelConfigValidator
{
    public static void Validate(ModelConfig config, string source)
    {
        string? modelType = ModelConfigArchitectures.ModelTypeOf(config.Architecture);
        if (modelType is null)
        {
            throw new ModelFormatException(source, ModelConfigArchitectures.UnknownArchitectureMessage(config.Architecture));
        }

        if (config.ModelType != modelType)
        {
            throw new ModelFormatException(
                source, $"field 'model_type' is '{config.ModelType}' but architectures[0] is '{config.Architecture}'; expected '{modelType}'");
        }

        Positive(source, "vocab_size", config.VocabSize);
        Positive(source, "hidden_size", config.HiddenSize);
        Positive(source, "intermediate_size", config.IntermediateSize);
        Positive(source, "num_hidden_layers", config.NumHiddenLayers);
        Positive(source, "num_attention_heads", config.NumAttentionHeads);
        Positive(source, "num_key_value_heads", config.NumKeyValueHeads);
        Positive(source, "head_dim", config.HeadDim);
        Positive(source, "max_position_embeddings", config.MaxPositionEmbeddings);

        // Grouped-query attention shares each KV head among an integral number of query heads.
        if (config.NumAttentionHeads % config.NumKeyValueHeads != 0)
        {
            throw new ModelFormatException(
                source,
                $"field 'num_attention_heads' {config.NumAttentionHeads} is not a multiple of 'num_key_value_heads' {config.NumKeyValueHeads}");
        }

        // RoPE rotates pairs of dimensions.
        if (config.HeadDim % 2 != 0)
        {
            throw new ModelFormatException(source, $"field 'head_dim' is {config.HeadDim}; expected an even number for rotary embeddings");
        }

        PositiveNumber(source, "rms_norm_eps", config.RmsNormEps);
        PositiveNumber(source, "rope_theta", config.RopeTheta);

        if (config.SlidingWindow is { } window)
        {
            Positive(source, "sliding_window", window);
        }

        if (config.RopeScaling is { } scaling)
        {
            ValidateRopeScaling(source, scaling);
        }
    }

    private static void ValidateRopeScaling(string source, RopeScaling scaling)
    {
        if (scaling.Type != RopeScaling.Llama3)
        {
            throw new ModelFormatException(
                source, $"field 'rope_scaling.rope_type' is '{scaling.Type}'; expected '{RopeScaling.Llama3}' (or 'default' for no scaling)");
        }

        PositiveNumber(source, "rope_scaling.factor", scaling.Factor);
        PositiveNumber(source, "rope_scaling.low_freq_factor", scaling.LowFreqFactor);
        PositiveNumber(source, "rope_scaling.high_freq_factor", scaling.HighFreqFactor);
        Positive(source, "rope_scaling.original_max_position_embeddings", scaling.OriginalMaxPositionEmbeddings);

        // The llama3 interpolation divides by (high - low); equal factors would make the smooth band undefined.
        if (scaling.HighFreqFactor <= scaling.LowFreqFactor)
        {
            throw new ModelFormatException(
                source,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"field 'rope_scaling.high_freq_factor' {scaling.HighFreqFactor} is not greater than 'rope_scaling.low_freq_factor' {scaling.LowFreqFactor}"));
        }
    }

    private static void Positive(string source, string field, int value)
    {
        if (value <= 0)
        {
            throw new ModelFormatException(
                source, string.Create(CultureInfo.InvariantCulture, $"field '{field}' is {value}; expected a positive integer"));
        }
    }

    private static void PositiveNumber(string source, string field, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ModelFormatException(
                source, string.Create(CultureInfo.InvariantCulture, $"field '{field}' is {value}; expected a positive number"));
        }
    }
}
