using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OrleansQuant.Model;

/// <summary>
/// <see cref="ModelConfig"/> → config.json as transformers writes it (keys sorted, two-space indent, floats with a
/// decimal point), carrying only the fields that change the model so that from_pretrained rebuilds the same network.
/// </summary>
internal static class ModelConfigWriter
{
    public static string Write(ModelConfig config)
    {
        ModelConfigValidator.Validate(config, nameof(ModelConfig));

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("architectures");
            writer.WriteStringValue(config.Architecture);
            writer.WriteEndArray();

            if (config.ModelType == "llama")
            {
                writer.WriteBoolean("attention_bias", config.AttentionBias);
            }

            if (config.BosTokenId is { } bos)
            {
                writer.WriteNumber("bos_token_id", bos);
            }
            else
            {
                writer.WriteNull("bos_token_id");
            }

            WriteEos(writer, config.EosTokenIds);
            writer.WriteNumber("head_dim", config.HeadDim);
            writer.WriteString("hidden_act", "silu");
            writer.WriteNumber("hidden_size", config.HiddenSize);
            writer.WriteNumber("intermediate_size", config.IntermediateSize);
            writer.WriteNumber("max_position_embeddings", config.MaxPositionEmbeddings);
            if (config.ModelType == "llama")
            {
                writer.WriteBoolean("mlp_bias", false);
            }

            writer.WriteString("model_type", config.ModelType);
            writer.WriteNumber("num_attention_heads", config.NumAttentionHeads);
            writer.WriteNumber("num_hidden_layers", config.NumHiddenLayers);
            writer.WriteNumber("num_key_value_heads", config.NumKeyValueHeads);
            WriteFloat(writer, "rms_norm_eps", config.RmsNormEps);
            WriteRopeScaling(writer, config.RopeScaling);
            WriteFloat(writer, "rope_theta", config.RopeTheta);

            // Mistral's window is part of the model; Qwen2's is written disabled, matching use_sliding_window below.
            if (config.ModelType is "mistral" or "qwen2")
            {
                if (config.SlidingWindow is { } window)
                {
                    writer.WriteNumber("sliding_window", window);
                }
                else
                {
                    writer.WriteNull("sliding_window");
                }
            }

            writer.WriteBoolean("tie_word_embeddings", config.TieWordEmbeddings);
            writer.WriteString("torch_dtype", config.TorchDtype);
            if (config.ModelType == "qwen2")
            {
                writer.WriteBoolean("use_sliding_window", false);
            }

            writer.WriteNumber("vocab_size", config.VocabSize);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    // One id is written as a bare integer, as in most published configs; several as a list (Llama 3.1).
    private static void WriteEos(Utf8JsonWriter writer, IReadOnlyList<int> ids)
    {
        switch (ids.Count)
        {
            case 0:
                writer.WriteNull("eos_token_id");
                break;
            case 1:
                writer.WriteNumber("eos_token_id", ids[0]);
                break;
            default:
                writer.WriteStartArray("eos_token_id");
                foreach (int id in ids)
                {
                    writer.WriteNumberValue(id);
                }

                writer.WriteEndArray();
                break;
        }
    }

    private static void WriteRopeScaling(Utf8JsonWriter writer, RopeScaling? scaling)
    {
        if (scaling is null)
        {
            writer.WriteNull("rope_scaling");
            return;
        }

        writer.WriteStartObject("rope_scaling");
        writer.WriteString("rope_type", scaling.Type);
        WriteFloat(writer, "factor", scaling.Factor);
        WriteFloat(writer, "low_freq_factor", scaling.LowFreqFactor);
        WriteFloat(writer, "high_freq_factor", scaling.HighFreqFactor);
        writer.WriteNumber("original_max_position_embeddings", scaling.OriginalMaxPositionEmbeddings);
        writer.WriteEndObject();
    }

    // transformers type-checks some rope fields as float, and Python only reads "8.0" (not "8") as one.
    private static void WriteFloat(Utf8JsonWriter writer, string name, double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('.') && !text.Contains('E'))
        {
            text += ".0";
        }

        writer.WritePropertyName(name);
        writer.WriteRawValue(text);
    }
}
