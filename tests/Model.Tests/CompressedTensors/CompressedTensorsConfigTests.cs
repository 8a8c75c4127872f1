using System.Text.Json.Nodes;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Model.Tests.CompressedTensors;

public sealed class CompressedTensorsConfigTests
{
    /// <summary>The quantization_config llm-compressor writes for a W8A8 int8 Llama (keys as transformers sorts them).</summary>
    private const string LlmCompressorBlock = """
        {
          "config_groups": {
            "group_0": {
              "input_activations": {
                "actorder": null,
                "block_structure": null,
                "dynamic": true,
                "group_size": null,
                "num_bits": 8,
                "observer": null,
                "observer_kwargs": {},
                "strategy": "token",
                "symmetric": true,
                "type": "int"
              },
              "output_activations": null,
              "targets": ["Linear"],
              "weights": {
                "actorder": null,
                "block_structure": null,
                "dynamic": false,
                "group_size": null,
                "num_bits": 8,
                "observer": "minmax",
                "observer_kwargs": {},
                "strategy": "channel",
                "symmetric": true,
                "type": "int"
              }
            }
          },
          "format": "int-quantized",
          "global_compression_ratio": null,
          "ignore": ["lm_head"],
          "kv_cache_scheme": null,
          "quant_method": "compressed-tensors",
          "quantization_status": "compressed",
          "version": "0.10.2"
        }
        """;

    private static JsonObject ConfigWith(JsonNode? block) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["hidden_size"] = 4096,
        ["quantization_config"] = block,
    };

    private static JsonObject Block() => JsonNode.Parse(LlmCompressorBlock)!.AsObject();

    private static string ErrorOf(Action<JsonObject> edit)
    {
        JsonObject block = Block();
        edit(block);
        return Assert.Throws<ModelFormatException>(() => CompressedTensorsConfig.FromConfigJson(ConfigWith(block), "config.json")).Message;
    }

    private static JsonObject Group(JsonObject block) => block["config_groups"]!["group_0"]!.AsObject();

    [Fact]
    public void ToJson_writes_exactly_llm_compressors_fields_and_values()
    {
        JsonObject json = CompressedTensorsConfig.W8A8.ToJson();

        Assert.True(JsonNode.DeepEquals(Block(), json), json.ToJsonString());
        Assert.Equal(
            ["config_groups", "format", "global_compression_ratio", "ignore", "kv_cache_scheme", "quant_method", "quantization_status", "version"],
            json.Select(property => property.Key));
    }

    [Fact]
    public void Defaults_are_the_w8a8_int8_scheme()
    {
        CompressedTensorsConfig config = CompressedTensorsConfig.W8A8;

        Assert.Equal("int-quantized", config.Format);
        Assert.Equal("compressed-tensors", config.QuantMethod);
        Assert.Equal("compressed", config.QuantizationStatus);
        Assert.Equal(["lm_head"], config.Ignore);
        Assert.Equal(["Linear"], config.Targets);
        Assert.Equal(new CompressedTensorsQuantizationArgs(8, "int", true, "channel", false, "minmax"), config.Weights);
        Assert.Equal(new CompressedTensorsQuantizationArgs(8, "int", true, "token", true, null), config.InputActivations);
        Assert.Null(config.GlobalCompressionRatio);
    }

    [Fact]
    public void FromConfigJson_round_trips_ToJson()
    {
        var config = CompressedTensorsConfig.W8A8 with { GlobalCompressionRatio = 1.4571, Ignore = ["lm_head", "re:.*down_proj"] };

        CompressedTensorsConfig? read = CompressedTensorsConfig.FromConfigJson(ConfigWith(config.ToJson()), "config.json");

        Assert.Equal(config, read);
    }

    [Fact]
    public void FromConfigJson_is_null_without_a_quantization_config()
    {
        Assert.Null(CompressedTensorsConfig.FromConfigJson(new JsonObject { ["hidden_size"] = 4096 }, "config.json"));
        Assert.Null(CompressedTensorsConfig.FromConfigJson(ConfigWith(null), "config.json"));
    }

    [Fact]
    public void FromConfigJson_accepts_the_minimal_form_with_compressed_tensors_defaults()
    {
        JsonObject block = JsonNode.Parse("""
            {
              "quant_method": "compressed-tensors",
              "format": "int-quantized",
              "quantization_status": "compressed",
              "config_groups": {
                "group_0": {
                  "targets": ["Linear"],
                  "weights": { "strategy": "channel" },
                  "input_activations": { "strategy": "token", "dynamic": true }
                }
              },
              "ignore": ["lm_head"]
            }
            """)!.AsObject();

        CompressedTensorsConfig config = CompressedTensorsConfig.FromConfigJson(ConfigWith(block), "config.json")!;

        Assert.Equal(8, config.Weights.NumBits);
        Assert.True(config.InputActivations.Dynamic);
        Assert.Null(config.Version);
    }

    [Fact]
    public void Rejects_group_strategy()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.weights.strategy is 'group'; expected 'channel'",
            ErrorOf(block => Group(block)["weights"]!["strategy"] = "group"));
    }

    [Fact]
    public void Rejects_4_bit_weights()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.weights.num_bits is 4; expected 8",
            ErrorOf(block => Group(block)["weights"]!["num_bits"] = 4));
    }

    [Fact]
    public void Rejects_static_activations()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.input_activations.dynamic is false; expected true",
            ErrorOf(block => Group(block)["input_activations"]!["dynamic"] = false));
    }

    [Fact]
    public void Rejects_per_tensor_activations()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.input_activations.strategy is 'tensor'; expected 'token'",
            ErrorOf(block => Group(block)["input_activations"]!["strategy"] = "tensor"));
    }

    [Fact]
    public void Rejects_weight_only_checkpoints()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.input_activations is null; expected int 8-bit symmetric per-token dynamic quantization",
            ErrorOf(block => Group(block)["input_activations"] = null));
    }

    [Fact]
    public void Rejects_fp8()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.weights.type is 'float'; expected 'int'",
            ErrorOf(block => Group(block)["weights"]!["type"] = "float"));
    }

    [Fact]
    public void Rejects_asymmetric_weights()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups.group_0.weights.symmetric is false; expected true (zero points are not supported)",
            ErrorOf(block => Group(block)["weights"]!["symmetric"] = false));
    }

    [Fact]
    public void Rejects_other_quant_methods()
    {
        Assert.Equal(
            "config.json: quantization_config.quant_method is 'gptq'; expected 'compressed-tensors'",
            ErrorOf(block => block["quant_method"] = "gptq"));
    }

    [Fact]
    public void Rejects_other_formats()
    {
        Assert.Equal(
            "config.json: quantization_config.format is 'pack-quantized'; expected 'int-quantized'",
            ErrorOf(block => block["format"] = "pack-quantized"));
    }

    [Fact]
    public void Rejects_missing_format()
    {
        Assert.Equal(
            "config.json: quantization_config.format is missing; expected 'int-quantized'",
            ErrorOf(block => block.Remove("format")));
    }

    [Fact]
    public void Rejects_a_quantized_kv_cache()
    {
        Assert.Equal(
            "config.json: quantization_config.kv_cache_scheme is an object; expected null (a quantized KV cache is not served)",
            ErrorOf(block => block["kv_cache_scheme"] = new JsonObject { ["num_bits"] = 8 }));
    }

    [Fact]
    public void Rejects_a_second_config_group()
    {
        Assert.Equal(
            "config.json: quantization_config.config_groups has 2 groups; expected exactly one (int8 W8A8 for the linear layers)",
            ErrorOf(block => block["config_groups"]!["group_1"] = Group(block).DeepClone()));
    }

    [Fact]
    public void Rejects_a_quantization_config_that_is_not_an_object()
    {
        var error = Assert.Throws<ModelFormatException>(
            () => CompressedTensorsConfig.FromConfigJson(ConfigWith("int8"), "config.json"));

        Assert.Equal("config.json: quantization_config is 'int8'; expected an object", error.Message);
    }

    [Fact]
    public void IsIgnored_uses_recipe_matching()
    {
        var config = CompressedTensorsConfig.W8A8 with { Ignore = ["lm_head", "re:.*layers\\.0\\.mlp\\.down_proj$"] };

        Assert.True(config.IsIgnored("lm_head"));
        Assert.True(config.IsIgnored("model.layers.0.mlp.down_proj"));
        Assert.False(config.IsIgnored("model.layers.10.mlp.down_proj"));
        Assert.False(config.IsIgnored("model.layers.0.self_attn.q_proj"));
        Assert.True(config.Quantizes("model.layers.0.self_attn.q_proj"));
        Assert.False(config.Quantizes("model.layers.0.input_layernorm"));
    }

    [Fact]
    public void FromRecipe_lists_unquantized_linears_by_full_name()
    {
        var recipe = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Ignore = ["lm_head", "re:.*down_proj"] } };

        CompressedTensorsConfig config = CompressedTensorsConfig.FromRecipe(recipe, numHiddenLayers: 2);

        Assert.Equal(["model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj", "lm_head"], config.Ignore);
        Assert.Equal(["Linear"], config.Targets);
        Assert.Equal(["lm_head"], CompressedTensorsConfig.FromRecipe(QuantizationRecipe.Default, 32).Ignore);
    }

    [Fact]
    public void AddTo_inserts_the_block_and_keeps_other_fields()
    {
        using var directory = new TempDirectory();
        string path = directory.File("config.json");
        File.WriteAllText(path, """
            {
              "architectures": ["LlamaForCausalLM"],
              "hidden_size": 64,
              "rope_scaling": { "rope_type": "llama3", "factor": 8.0 },
              "torch_dtype": "bfloat16"
            }
            """);

        CompressedTensorsConfig.AddTo(path, CompressedTensorsConfig.W8A8);

        JsonObject written = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(["architectures", "hidden_size", "rope_scaling", "torch_dtype", "quantization_config"], written.Select(p => p.Key));
        Assert.Equal(8.0, written["rope_scaling"]!["factor"]!.GetValue<double>());
        Assert.Equal("bfloat16", written["torch_dtype"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(Block(), written["quantization_config"]));
        Assert.Equal(CompressedTensorsConfig.W8A8, CompressedTensorsConfig.FromConfigJson(written, path));

        // A second call replaces the block rather than nesting or duplicating it.
        CompressedTensorsConfig.AddTo(path, CompressedTensorsConfig.W8A8 with { GlobalCompressionRatio = 1.5 });
        written = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(5, written.Count);
        Assert.Equal(1.5, written["quantization_config"]!["global_compression_ratio"]!.GetValue<double>());
    }

    [Fact]
    public void AddTo_a_missing_file_names_it()
    {
        using var directory = new TempDirectory();
        string path = directory.File("config.json");

        var error = Assert.Throws<ModelFormatException>(() => CompressedTensorsConfig.AddTo(path, CompressedTensorsConfig.W8A8));

        Assert.Equal($"{path}: file does not exist; expected a Hugging Face config.json", error.Message);
    }
}
