using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Model.Tests.Recipes;

public sealed class RecipeReaderTests
{
    [Fact]
    public void Yaml_example_reads_as_the_default_recipe()
    {
        QuantizationRecipe recipe = RecipeReader.Parse(RecipeTexts.W8A8Yaml, "recipe.yaml");

        Assert.Equal(QuantizationRecipe.Default, recipe);
        Assert.Equal(0.8, recipe.SmoothQuant!.SmoothingStrength);
        Assert.Equal(["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], recipe.SmoothQuant.Mappings[0].BalanceLayers);
        Assert.Equal("re:.*post_attention_layernorm", recipe.SmoothQuant.Mappings[1].SmoothLayer);
        GptqModifier gptq = recipe.Gptq!;
        Assert.Equal(["Linear"], gptq.Targets);
        Assert.Equal("W8A8", gptq.Scheme);
        Assert.Equal(["lm_head"], gptq.Ignore);
        Assert.Equal(128, gptq.BlockSize);
        Assert.Equal(0.01, gptq.DampeningFrac);
        Assert.False(gptq.ActOrder);
        Assert.Null(recipe.Rtn);
    }

    [Fact]
    public void Json_twin_reads_to_an_equal_record()
    {
        Assert.Equal(
            RecipeReader.Parse(RecipeTexts.W8A8Yaml, "recipe.yaml"),
            RecipeReader.Parse(RecipeTexts.W8A8Json, "recipe.json"));
    }

    [Fact]
    public void Modifiers_may_sit_at_top_level_or_in_a_group_without_a_stage()
    {
        const string TopLevel = """
            SmoothQuantModifier:
              smoothing_strength: 0.5
            GPTQModifier:
              block_size: 64
            """;
        const string GroupOnly = """
            quant_modifiers:
              SmoothQuantModifier:
                smoothing_strength: 0.5
              GPTQModifier:
                block_size: 64
            """;

        QuantizationRecipe expected = QuantizationRecipe.Default with
        {
            SmoothQuant = SmoothQuantModifier.Default with { SmoothingStrength = 0.5 },
            Gptq = GptqModifier.Default with { BlockSize = 64 },
        };
        Assert.Equal(expected, RecipeReader.Parse(TopLevel, "top.yaml"));
        Assert.Equal(expected, RecipeReader.Parse(GroupOnly, "group.yaml"));
    }

    [Fact]
    public void Absent_fields_take_the_defaults()
    {
        QuantizationRecipe recipe = RecipeReader.Parse(
            """
            quant_stage:
              quant_modifiers:
                SmoothQuantModifier: {}
                GPTQModifier:
            """,
            "bare.yaml");

        Assert.Equal(QuantizationRecipe.Default, recipe);
        Assert.Equal(SmoothingMapping.LlamaDefaults, recipe.SmoothQuant!.Mappings);
    }

    [Fact]
    public void Modifiers_spread_over_two_stages_combine()
    {
        QuantizationRecipe recipe = RecipeReader.Parse(
            """
            smooth_stage:
              smooth_modifiers:
                SmoothQuantModifier:
                  smoothing_strength: 0.7
            quant_stage:
              quant_modifiers:
                GPTQModifier:
                  dampening_frac: 0.05
            """,
            "stages.yaml");

        Assert.Equal(0.7, recipe.SmoothQuant!.SmoothingStrength);
        Assert.Equal(0.05, recipe.Gptq!.DampeningFrac);
    }

    [Fact]
    public void QuantizationModifier_reads_as_round_to_nearest()
    {
        QuantizationRecipe recipe = RecipeReader.Parse(
            """
            quant_stage:
              quant_modifiers:
                QuantizationModifier:
                  targets: Linear
                  scheme: W8A8
                  ignore: ["lm_head", "re:.*down_proj"]
            """,
            "rtn.yaml");

        Assert.Null(recipe.SmoothQuant);
        Assert.Null(recipe.Gptq);
        Assert.Equal(new RtnModifier(["Linear"], "W8A8", ["lm_head", "re:.*down_proj"]), recipe.Rtn);
        Assert.True(recipe.Quantizes("model.layers.0.self_attn.q_proj"));
        Assert.False(recipe.Quantizes("model.layers.0.mlp.down_proj"));
        Assert.False(recipe.Quantizes("lm_head"));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("null", false)]
    [InlineData("", false)]
    [InlineData("static", true)]
    [InlineData("group", true)]
    [InlineData("\"weight\"", true)]
    public void Actorder_accepts_bools_and_llm_compressor_ordering_names(string value, bool expected)
    {
        QuantizationRecipe recipe = RecipeReader.Parse($"GPTQModifier:\n  actorder: {value}\n", "actorder.yaml");

        Assert.Equal(expected, recipe.Gptq!.ActOrder);
    }

    [Fact]
    public void Custom_mappings_and_regex_targets_are_kept_verbatim()
    {
        QuantizationRecipe recipe = RecipeReader.Parse(
            """
            {
              "SmoothQuantModifier": {
                "smoothing_strength": 1,
                "mappings": [[["re:.*gate_proj"], "re:.*post_attention_layernorm"]]
              },
              "GPTQModifier": {
                "targets": ["re:.*self_attn\\.(q|k|v)_proj$", "model.layers.7.mlp.down_proj"],
                "ignore": []
              }
            }
            """,
            "custom.json");

        Assert.Equal(1.0, recipe.SmoothQuant!.SmoothingStrength);
        Assert.Equal([new SmoothingMapping(["re:.*gate_proj"], "re:.*post_attention_layernorm")], recipe.SmoothQuant.Mappings);
        Assert.Equal(["re:.*self_attn\\.(q|k|v)_proj$", "model.layers.7.mlp.down_proj"], recipe.Gptq!.Targets);
        Assert.Empty(recipe.Gptq.Ignore);
        Assert.True(recipe.Quantizes("model.layers.2.self_attn.k_proj"));
        Assert.False(recipe.Quantizes("model.layers.2.self_attn.o_proj"));
        Assert.True(recipe.Quantizes("model.layers.7.mlp.down_proj"));
        Assert.False(recipe.Quantizes("model.layers.6.mlp.down_proj"));
    }

    [Fact]
    public void Load_reads_a_file_and_names_it_in_errors()
    {
        using var directory = new TempDirectory();
        string path = directory.File("recipe.yaml");
        File.WriteAllText(path, RecipeTexts.W8A8Yaml);
        Assert.Equal(QuantizationRecipe.Default, RecipeReader.Load(path));

        File.WriteAllText(path, "GPTQModifier:\n  block_size: 0\n");
        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Load(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_of_a_missing_file_names_it()
    {
        using var directory = new TempDirectory();
        string path = directory.File("absent.yaml");

        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Load(path));

        Assert.Equal($"{path}: file does not exist; expected an llm-compressor recipe (YAML or JSON)", error.Message);
    }
}
