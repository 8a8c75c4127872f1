using System.Text.Json;

namespace OrleansQuant.Model.Tests.Config;

public sealed class ModelConfigJsonTests
{
    [Theory]
    [InlineData(nameof(ConfigSamples.Llama31_8B))]
    [InlineData(nameof(ConfigSamples.Qwen2_05B))]
    [InlineData(nameof(ConfigSamples.Mistral7B))]
    [InlineData(nameof(ConfigSamples.MinimalLlama))]
    public void ToJson_round_trips_through_Parse(string sample)
    {
        string json = (string)typeof(ConfigSamples).GetField(sample)!.GetValue(null)!;
        ModelConfig original = ModelConfig.Parse(json, sample);

        ModelConfig reparsed = ModelConfig.Parse(original.ToJson(), sample);

        Assert.Equal(original, reparsed);
        Assert.Equal(original.GetHashCode(), reparsed.GetHashCode());
    }

    [Fact]
    public void Llama_json_has_the_fields_transformers_reads_with_python_style_floats()
    {
        string json = ModelConfig.Parse(ConfigSamples.Llama31_8B, "llama").ToJson();
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;

        Assert.Equal("LlamaForCausalLM", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("llama", root.GetProperty("model_type").GetString());
        Assert.Equal("silu", root.GetProperty("hidden_act").GetString());
        Assert.False(root.GetProperty("attention_bias").GetBoolean());
        Assert.Equal(8, root.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(128, root.GetProperty("head_dim").GetInt32());
        Assert.Equal("bfloat16", root.GetProperty("torch_dtype").GetString());
        Assert.Equal([128001, 128008, 128009], root.GetProperty("eos_token_id").EnumerateArray().Select(e => e.GetInt32()));

        JsonElement rope = root.GetProperty("rope_scaling");
        Assert.Equal(
            ["rope_type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"],
            rope.EnumerateObject().Select(p => p.Name));
        Assert.Equal("llama3", rope.GetProperty("rope_type").GetString());

        // transformers checks llama3 factors with isinstance(x, float); Python reads "8" as an int.
        Assert.Contains("\"factor\": 8.0", json);
        Assert.Contains("\"rope_theta\": 500000.0", json);
        Assert.Contains("\"rms_norm_eps\": 1E-05", json);
        Assert.EndsWith("}\n", json);
        Assert.Equal(root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Qwen2_json_disables_sliding_window_and_has_no_attention_bias_field()
    {
        string json = ModelConfig.Parse(ConfigSamples.Qwen2_05B, "qwen2").ToJson();
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;

        Assert.False(root.GetProperty("use_sliding_window").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("sliding_window").ValueKind);
        Assert.False(root.TryGetProperty("attention_bias", out _));
        Assert.True(root.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(151643, root.GetProperty("eos_token_id").GetInt32());
    }

    [Fact]
    public void ToJson_refuses_an_inconsistent_hand_built_config()
    {
        var config = ModelConfig.Parse(ConfigSamples.MinimalLlama, "tiny") with { NumKeyValueHeads = 3 };
        var error = Assert.Throws<ModelFormatException>(() => config.ToJson());
        Assert.Contains("'num_attention_heads' 4 is not a multiple of 'num_key_value_heads' 3", error.Message);
    }
}
