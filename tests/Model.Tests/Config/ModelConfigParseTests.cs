namespace OrleansQuant.Model.Tests.Config;

public sealed class ModelConfigParseTests
{
    [Fact]
    public void Llama_3_1_8B()
    {
        ModelConfig config = ModelConfig.Parse(ConfigSamples.Llama31_8B, "llama/config.json");

        Assert.Equal("LlamaForCausalLM", config.Architecture);
        Assert.Equal("llama", config.ModelType);
        Assert.Equal(128256, config.VocabSize);
        Assert.Equal(4096, config.HiddenSize);
        Assert.Equal(14336, config.IntermediateSize);
        Assert.Equal(32, config.NumHiddenLayers);
        Assert.Equal(32, config.NumAttentionHeads);
        Assert.Equal(8, config.NumKeyValueHeads);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(131072, config.MaxPositionEmbeddings);
        Assert.Equal(1e-5, config.RmsNormEps);
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), config.RopeScaling);
        Assert.False(config.TieWordEmbeddings);
        Assert.False(config.AttentionBias);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal([128001, 128008, 128009], config.EosTokenIds);
        Assert.Null(config.SlidingWindow);
        Assert.Equal("bfloat16", config.TorchDtype);
    }

    [Fact]
    public void Qwen2_0_5B_has_qkv_bias_tied_embeddings_and_no_sliding_window()
    {
        ModelConfig config = ModelConfig.Parse(ConfigSamples.Qwen2_05B, "qwen2/config.json");

        Assert.Equal("Qwen2ForCausalLM", config.Architecture);
        Assert.Equal("qwen2", config.ModelType);
        Assert.Equal(151936, config.VocabSize);
        Assert.Equal(896, config.HiddenSize);
        Assert.Equal(4864, config.IntermediateSize);
        Assert.Equal(24, config.NumHiddenLayers);
        Assert.Equal(14, config.NumAttentionHeads);
        Assert.Equal(2, config.NumKeyValueHeads);
        Assert.Equal(64, config.HeadDim);
        Assert.Equal(131072, config.MaxPositionEmbeddings);
        Assert.Equal(1e-6, config.RmsNormEps);
        Assert.Equal(1_000_000.0, config.RopeTheta);
        Assert.Null(config.RopeScaling);
        Assert.True(config.TieWordEmbeddings);
        Assert.True(config.AttentionBias);
        Assert.Equal(151643, config.BosTokenId);
        Assert.Equal([151643], config.EosTokenIds);

        // sliding_window is present but use_sliding_window is false, so attention is full.
        Assert.Null(config.SlidingWindow);
    }

    [Fact]
    public void Mistral_7B_keeps_its_sliding_window()
    {
        ModelConfig config = ModelConfig.Parse(ConfigSamples.Mistral7B, "mistral/config.json");

        Assert.Equal("MistralForCausalLM", config.Architecture);
        Assert.Equal("mistral", config.ModelType);
        Assert.Equal(32000, config.VocabSize);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(8, config.NumKeyValueHeads);
        Assert.Equal(32768, config.MaxPositionEmbeddings);
        Assert.Equal(10000.0, config.RopeTheta);
        Assert.Equal(4096, config.SlidingWindow);
        Assert.False(config.AttentionBias);
        Assert.Equal(1, config.BosTokenId);
        Assert.Equal([2], config.EosTokenIds);
    }

    [Fact]
    public void Absent_optional_fields_take_transformers_defaults()
    {
        ModelConfig config = ModelConfig.Parse(ConfigSamples.MinimalLlama, "tiny/config.json");

        Assert.Equal("llama", config.ModelType);
        Assert.Equal(4, config.NumKeyValueHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(2048, config.MaxPositionEmbeddings);
        Assert.Equal(10000.0, config.RopeTheta);
        Assert.Null(config.RopeScaling);
        Assert.False(config.TieWordEmbeddings);
        Assert.False(config.AttentionBias);
        Assert.Null(config.BosTokenId);
        Assert.Empty(config.EosTokenIds);
        Assert.Null(config.SlidingWindow);
        Assert.Equal("float32", config.TorchDtype);
    }

    [Fact]
    public void Per_architecture_defaults_for_max_positions_and_sliding_window()
    {
        string mistral = ConfigSamples.MinimalLlama.Replace("LlamaForCausalLM", "MistralForCausalLM");
        ModelConfig m = ModelConfig.Parse(mistral, "m/config.json");
        Assert.Equal(131072, m.MaxPositionEmbeddings);
        Assert.Equal(4096, m.SlidingWindow);

        ModelConfig q = ModelConfig.Parse(ConfigSamples.MinimalLlama.Replace("LlamaForCausalLM", "Qwen2ForCausalLM"), "q/config.json");
        Assert.Equal(32768, q.MaxPositionEmbeddings);
        Assert.True(q.AttentionBias);

        // An explicit null window means full attention (Mistral v0.2+).
        ModelConfig full = ModelConfig.Parse(mistral.Replace("\"vocab_size\"", "\"sliding_window\": null, \"vocab_size\""), "m2/config.json");
        Assert.Null(full.SlidingWindow);
    }

    [Fact]
    public void Explicit_head_dim_wins_over_hidden_over_heads()
    {
        // Mistral-Nemo: 5120 / 32 = 160, but head_dim is 128.
        string json = ConfigSamples.MinimalLlama.Replace("\"hidden_size\": 64", "\"hidden_size\": 5120, \"head_dim\": 128")
            .Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 32, \"num_key_value_heads\": 8");
        ModelConfig config = ModelConfig.Parse(json, "nemo/config.json");
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(8, config.NumKeyValueHeads);
    }

    [Fact]
    public void Llama_attention_bias_field_is_honoured()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", "\"attention_bias\": true, \"vocab_size\"");
        Assert.True(ModelConfig.Parse(json, "b/config.json").AttentionBias);
    }

    [Theory]
    [InlineData("\"rope_scaling\": null")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"default\"}")]
    public void Default_rope_type_means_no_scaling(string field)
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", field + ", \"vocab_size\"");
        Assert.Null(ModelConfig.Parse(json, "r/config.json").RopeScaling);
    }

    [Fact]
    public void Legacy_type_key_and_transformers_5_rope_parameters_are_read()
    {
        string legacy = ConfigSamples.MinimalLlama.Replace(
            "\"vocab_size\"",
            "\"rope_scaling\": {\"type\": \"llama3\", \"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}, \"vocab_size\"");
        Assert.Equal(new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), ModelConfig.Parse(legacy, "l/config.json").RopeScaling);

        string v5 = ConfigSamples.MinimalLlama.Replace(
            "\"vocab_size\"",
            "\"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0, \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}, \"vocab_size\"");
        ModelConfig config = ModelConfig.Parse(v5, "v5/config.json");
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), config.RopeScaling);
    }

    [Fact]
    public void Load_reads_a_file_and_names_a_missing_one()
    {
        string directory = Path.Combine(Path.GetTempPath(), "oq-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "config.json");
            File.WriteAllText(path, ConfigSamples.Qwen2_05B);
            Assert.Equal(896, ModelConfig.Load(path).HiddenSize);

            string missing = Path.Combine(directory, "absent.json");
            var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(missing));
            Assert.Equal(missing, error.Source);
            Assert.Contains("file does not exist", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
