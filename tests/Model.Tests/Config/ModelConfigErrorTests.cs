namespace OrleansQuant.Model.Tests.Config;

public sealed class ModelConfigErrorTests
{
    private const string Source = "/models/bad/config.json";

    [Fact]
    public void Missing_required_field()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"hidden_size\": 64,", string.Empty);
        AssertRefused(json, "missing required field 'hidden_size'");
    }

    [Theory]
    [InlineData("architectures")]
    [InlineData("intermediate_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("num_attention_heads")]
    [InlineData("vocab_size")]
    [InlineData("rms_norm_eps")]
    public void Every_required_field_is_required(string field)
    {
        string json = System.Text.RegularExpressions.Regex.Replace(
            ConfigSamples.MinimalLlama, $"\"{field}\": [^,\\n]+,?", string.Empty);
        AssertRefused(json.Replace(",\n}", "\n}"), $"missing required field '{field}'");
    }

    [Fact]
    public void Unknown_architecture()
    {
        string json = ConfigSamples.MinimalLlama.Replace("LlamaForCausalLM", "GPTNeoXForCausalLM");
        AssertRefused(
            json, "unknown architecture 'GPTNeoXForCausalLM'; expected one of LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM");
    }

    [Fact]
    public void Heads_that_do_not_divide_hidden_size()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
        AssertRefused(json, "field 'hidden_size' 64 is not divisible by 'num_attention_heads' 5");
    }

    [Fact]
    public void Query_heads_not_a_multiple_of_kv_heads()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 4, \"num_key_value_heads\": 3");
        AssertRefused(json, "field 'num_attention_heads' 4 is not a multiple of 'num_key_value_heads' 3");
    }

    [Fact]
    public void Non_positive_size()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"intermediate_size\": 128", "\"intermediate_size\": 0");
        AssertRefused(json, "field 'intermediate_size' is 0; expected a positive integer");
    }

    [Fact]
    public void Non_positive_rms_norm_eps()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": 0");
        AssertRefused(json, "field 'rms_norm_eps' is 0; expected a positive number");
    }

    [Fact]
    public void Wrong_json_type()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"hidden_size\": 64", "\"hidden_size\": \"64\"");
        AssertRefused(json, "field 'hidden_size' is the string \"64\"; expected an integer");

        string fractional = ConfigSamples.MinimalLlama.Replace("\"hidden_size\": 64", "\"hidden_size\": 64.5");
        AssertRefused(fractional, "field 'hidden_size' is the number 64.5; expected an integer");

        string eos = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", "\"eos_token_id\": [1, \"2\"], \"vocab_size\"");
        AssertRefused(eos, "field 'eos_token_id' is the string \"2\"; expected an integer or a list of integers");
    }

    [Fact]
    public void Unsupported_rope_scaling_type()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}, \"vocab_size\"");
        AssertRefused(json, "field 'rope_scaling.rope_type' is 'yarn'; expected 'llama3'");
    }

    [Fact]
    public void Llama3_rope_scaling_missing_a_parameter()
    {
        string json = ConfigSamples.MinimalLlama.Replace(
            "\"vocab_size\"", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}, \"vocab_size\"");
        AssertRefused(json, "missing required field 'rope_scaling.original_max_position_embeddings'");
    }

    [Fact]
    public void Model_type_contradicting_the_architecture()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", "\"model_type\": \"qwen2\", \"vocab_size\"");
        AssertRefused(json, "field 'model_type' is 'qwen2' but architectures[0] is 'LlamaForCausalLM'; expected 'llama'");
    }

    [Fact]
    public void Activation_other_than_silu()
    {
        string json = ConfigSamples.MinimalLlama.Replace("\"vocab_size\"", "\"hidden_act\": \"gelu\", \"vocab_size\"");
        AssertRefused(json, "field 'hidden_act' is 'gelu'; expected 'silu'");
    }

    [Fact]
    public void Not_json_or_not_an_object()
    {
        AssertRefused("{\"architectures\": [", "not valid JSON");
        AssertRefused("[1, 2]", "config is a JSON array; expected an object");
    }

    private static void AssertRefused(string json, string expected)
    {
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Parse(json, Source));
        Assert.Equal(Source, error.Source);
        Assert.Contains(expected, error.Message);
    }
}
