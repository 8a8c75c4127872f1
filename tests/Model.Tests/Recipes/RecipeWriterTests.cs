using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Recipes;

public sealed class RecipeWriterTests
{
    [Fact]
    public void Default_recipe_is_written_in_llm_compressor_layout()
    {
        string expected = """
            quant_stage:
              quant_modifiers:
                SmoothQuantModifier:
                  smoothing_strength: 0.8
                  mappings:
                    - [["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], "re:.*input_layernorm"]
                    - [["re:.*gate_proj", "re:.*up_proj"], "re:.*post_attention_layernorm"]
                GPTQModifier:
                  targets: ["Linear"]
                  scheme: "W8A8"
                  ignore: ["lm_head"]
                  block_size: 128
                  dampening_frac: 0.01
                  actorder: false

            """;

        Assert.Equal(expected, RecipeWriter.ToYaml(QuantizationRecipe.Default));
    }

    public static TheoryData<string> Recipes() => ["default", "rtn", "actorder", "custom"];

    [Theory]
    [MemberData(nameof(Recipes))]
    public void ToYaml_round_trips_through_Parse(string name)
    {
        QuantizationRecipe recipe = name switch
        {
            "default" => QuantizationRecipe.Default,
            "rtn" => new QuantizationRecipe(null, null, new RtnModifier(["Linear"], "W8A8", ["lm_head", "re:.*mlp\\.down_proj$"])),
            "actorder" => QuantizationRecipe.Default with
            {
                Gptq = GptqModifier.Default with { ActOrder = true, DampeningFrac = 1e-5, BlockSize = 256 },
            },
            _ => new QuantizationRecipe(
                new SmoothQuantModifier(1.0, [new SmoothingMapping(["model.layers.0.self_attn.q_proj"], "re:.*input_layernorm")]),
                new GptqModifier(["re:.*(q|k)_proj", "down_proj"], "W8A8", [], 1, 0.123456789012345, false),
                null),
        };

        string yaml = RecipeWriter.ToYaml(recipe);

        Assert.Equal(recipe, RecipeReader.Parse(yaml, "written.yaml"));
    }

    [Fact]
    public void Act_order_is_written_as_llm_compressors_static_ordering()
    {
        string yaml = RecipeWriter.ToYaml(QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { ActOrder = true } });

        Assert.Contains("      actorder: static\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Small_and_whole_numbers_keep_a_decimal_point_for_yaml_1_1_readers()
    {
        var recipe = QuantizationRecipe.Default with
        {
            SmoothQuant = SmoothQuantModifier.Default with { SmoothingStrength = 1 },
            Gptq = GptqModifier.Default with { DampeningFrac = 1e-5 },
        };

        string yaml = RecipeWriter.ToYaml(recipe);

        Assert.Contains("smoothing_strength: 1.0\n", yaml, StringComparison.Ordinal);
        Assert.Contains("dampening_frac: 1.0e-05\n", yaml, StringComparison.Ordinal);
    }
}
