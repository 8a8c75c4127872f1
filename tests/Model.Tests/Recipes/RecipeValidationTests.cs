using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Recipes;

/// <summary>One test per rule: each error names the file, the field, the bad value and what was expected.</summary>
public sealed class RecipeValidationTests
{
    private static string ErrorOf(string text) =>
        Assert.Throws<ModelFormatException>(() => RecipeReader.Parse(text, "r.yaml")).Message;

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    public void Smoothing_strength_outside_0_1(string value)
    {
        Assert.Equal(
            $"r.yaml: SmoothQuantModifier.smoothing_strength is {value}; expected a value in [0, 1]",
            ErrorOf($"SmoothQuantModifier:\n  smoothing_strength: {value}\nGPTQModifier: {{}}\n"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("-0.01")]
    public void Dampening_frac_not_strictly_inside_0_1(string value)
    {
        Assert.Equal(
            $"r.yaml: GPTQModifier.dampening_frac is {value}; expected a value in (0, 1)",
            ErrorOf($"GPTQModifier:\n  dampening_frac: {value}\n"));
    }

    [Fact]
    public void Block_size_below_1()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier.block_size is 0; expected an integer >= 1",
            ErrorOf("GPTQModifier:\n  block_size: 0\n"));
    }

    [Fact]
    public void Block_size_not_an_integer()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier.block_size is 12.5; expected an integer",
            ErrorOf("GPTQModifier:\n  block_size: 12.5\n"));
    }

    [Fact]
    public void Smoothing_strength_not_a_number()
    {
        Assert.Equal(
            "r.yaml: SmoothQuantModifier.smoothing_strength is 'high'; expected a number",
            ErrorOf("SmoothQuantModifier:\n  smoothing_strength: high\nGPTQModifier: {}\n"));
    }

    [Theory]
    [InlineData("GPTQModifier")]
    [InlineData("QuantizationModifier")]
    public void Scheme_other_than_W8A8(string modifier)
    {
        Assert.Equal(
            $"r.yaml: {modifier}.scheme 'W4A16' is not supported; expected W8A8",
            ErrorOf($"{modifier}:\n  scheme: W4A16\n"));
    }

    [Fact]
    public void Target_matching_no_linear_layer()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier.targets[1] 'fc1' matches no linear layer; expected 'Linear' or a module name or 're:' pattern matching one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj",
            ErrorOf("GPTQModifier:\n  targets: [Linear, fc1]\n"));
    }

    [Fact]
    public void Regex_target_matching_no_linear_layer()
    {
        // Anchored like Python's re.match: "q_proj" alone does not match "model.layers.0.self_attn.q_proj".
        Assert.Contains(
            "QuantizationModifier.targets[0] 're:q_proj' matches no linear layer",
            ErrorOf("QuantizationModifier:\n  targets: ['re:q_proj']\n"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Target_naming_a_deep_layer_is_known()
    {
        QuantizationRecipe recipe = RecipeReader.Parse("GPTQModifier:\n  targets: [model.layers.79.mlp.up_proj]\n", "r.yaml");

        Assert.True(recipe.Quantizes("model.layers.79.mlp.up_proj"));
    }

    [Fact]
    public void Target_with_a_broken_regex()
    {
        Assert.StartsWith(
            "r.yaml: GPTQModifier.targets[0] 're:(.*q_proj' is not a valid regular expression (",
            ErrorOf("GPTQModifier:\n  targets: ['re:(.*q_proj']\n"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_targets()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier.targets is empty; expected at least one target such as 'Linear'",
            ErrorOf("GPTQModifier:\n  targets: []\n"));
    }

    [Fact]
    public void Mapping_whose_smooth_layer_is_not_a_norm()
    {
        Assert.Equal(
            "r.yaml: SmoothQuantModifier.mappings[0].smooth_layer 're:.*v_proj' is not a norm layer; expected a pattern matching input_layernorm or post_attention_layernorm",
            ErrorOf("SmoothQuantModifier:\n  mappings:\n    - [['re:.*o_proj'], 're:.*v_proj']\nGPTQModifier: {}\n"));
    }

    [Fact]
    public void Mapping_with_empty_balance_layers()
    {
        Assert.Equal(
            "r.yaml: SmoothQuantModifier.mappings[1].balance_layers is empty; expected at least one linear layer pattern",
            ErrorOf("SmoothQuantModifier:\n  mappings:\n    - [['re:.*q_proj'], 're:.*input_layernorm']\n    - [[], 're:.*post_attention_layernorm']\nGPTQModifier: {}\n"));
    }

    [Fact]
    public void Mapping_balancing_a_norm()
    {
        Assert.Contains(
            "SmoothQuantModifier.mappings[0].balance_layers[0] 're:.*input_layernorm' matches no linear layer",
            ErrorOf("SmoothQuantModifier:\n  mappings:\n    - [['re:.*input_layernorm'], 're:.*input_layernorm']\nGPTQModifier: {}\n"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Mapping_that_is_not_a_pair()
    {
        Assert.Equal(
            "r.yaml: SmoothQuantModifier.mappings[0] is a list; expected [[balance layer patterns], smooth layer pattern]",
            ErrorOf("SmoothQuantModifier:\n  mappings:\n    - ['re:.*q_proj', 're:.*k_proj', 're:.*input_layernorm']\nGPTQModifier: {}\n"));
    }

    [Fact]
    public void Empty_mappings()
    {
        Assert.Equal(
            "r.yaml: SmoothQuantModifier.mappings is empty; expected at least one [balance layers, smooth layer] pair",
            ErrorOf("SmoothQuantModifier:\n  mappings: []\nGPTQModifier: {}\n"));
    }

    [Fact]
    public void Both_weight_quantizers()
    {
        Assert.Equal(
            "r.yaml: recipe has both GPTQModifier and QuantizationModifier; expected exactly one weight quantizer",
            ErrorOf("GPTQModifier: {}\nQuantizationModifier: {}\n"));
    }

    [Fact]
    public void No_weight_quantizer()
    {
        Assert.Equal(
            "r.yaml: recipe has neither GPTQModifier nor QuantizationModifier; expected exactly one weight quantizer",
            ErrorOf("SmoothQuantModifier:\n  smoothing_strength: 0.8\n"));
    }

    [Fact]
    public void Unknown_field_in_a_modifier()
    {
        Assert.Equal(
            "r.yaml: unknown field 'dampening' in GPTQModifier; expected one of targets, scheme, ignore, block_size, dampening_frac, actorder",
            ErrorOf(RecipeTexts.W8A8Yaml.Replace("dampening_frac", "dampening", StringComparison.Ordinal)));
    }

    [Fact]
    public void Unknown_field_in_QuantizationModifier()
    {
        Assert.Equal(
            "r.yaml: unknown field 'block_size' in QuantizationModifier; expected one of targets, scheme, ignore",
            ErrorOf("QuantizationModifier:\n  block_size: 128\n"));
    }

    [Fact]
    public void Unknown_modifier()
    {
        Assert.Equal(
            "r.yaml: unknown modifier 'SparseGPTModifier' at quant_stage.quant_modifiers.SparseGPTModifier; expected one of SmoothQuantModifier, GPTQModifier, QuantizationModifier",
            ErrorOf("quant_stage:\n  quant_modifiers:\n    SparseGPTModifier: {}\n"));
    }

    [Fact]
    public void Unknown_top_level_field()
    {
        Assert.StartsWith(
            "r.yaml: unknown field 'version' in recipe; expected '*_stage' stages",
            ErrorOf("version: 1.1.0\nGPTQModifier: {}\n"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Modifier_given_twice()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier appears twice (again at b_stage.GPTQModifier); expected it once",
            ErrorOf("a_stage:\n  GPTQModifier: {}\nb_stage:\n  GPTQModifier: {}\n"));
    }

    [Fact]
    public void Bad_actorder_string()
    {
        Assert.Equal(
            "r.yaml: GPTQModifier.actorder is 'dynamic'; expected true, false, null or one of 'static', 'group', 'weight'",
            ErrorOf("GPTQModifier:\n  actorder: dynamic\n"));
    }

    [Fact]
    public void Field_given_twice_in_yaml()
    {
        Assert.StartsWith("r.yaml: not valid YAML: ", ErrorOf("GPTQModifier:\n  block_size: 64\n  block_size: 32\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Field_given_twice_in_json()
    {
        Assert.Equal(
            "r.yaml: field 'block_size' appears twice in GPTQModifier; expected it once",
            ErrorOf("{\"GPTQModifier\": {\"block_size\": 64, \"block_size\": 32}}"));
    }

    [Fact]
    public void Empty_recipe()
    {
        Assert.Equal("r.yaml: recipe is empty; expected stages or modifiers such as GPTQModifier", ErrorOf(""));
    }

    [Fact]
    public void Invalid_yaml_and_json()
    {
        Assert.StartsWith("r.yaml: not valid YAML: ", ErrorOf("GPTQModifier: [unclosed\n"), StringComparison.Ordinal);
        Assert.StartsWith("r.yaml: not valid JSON: ", ErrorOf("{\"GPTQModifier\": "), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_rejects_records_built_in_code()
    {
        var recipe = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { BlockSize = -4 } };

        var error = Assert.Throws<ModelFormatException>(() => recipe.Validate("api request"));

        Assert.Equal("api request: GPTQModifier.block_size is -4; expected an integer >= 1", error.Message);
    }
}
