using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Recipes;

public sealed class RecipeFlagsTests
{
    private static QuantizationRecipe Apply(
        QuantizationRecipe? baseRecipe = null,
        string? smoothingStrength = null,
        string? blockSize = null,
        string? dampeningFrac = null,
        bool? actOrder = null,
        bool noSmoothQuant = false,
        string? method = null) =>
        RecipeFlags.Apply(baseRecipe ?? QuantizationRecipe.Default, smoothingStrength, blockSize, dampeningFrac, actOrder, noSmoothQuant, method);

    private static string ErrorOf(Func<QuantizationRecipe> apply) => Assert.Throws<ModelFormatException>(() => apply()).Message;

    [Fact]
    public void No_flags_leave_the_recipe_as_it_is()
    {
        Assert.Equal(QuantizationRecipe.Default, Apply());
    }

    [Fact]
    public void Flags_override_the_matching_fields()
    {
        QuantizationRecipe recipe = Apply(smoothingStrength: "0.5", blockSize: "64", dampeningFrac: "0.1", actOrder: true);

        Assert.Equal(0.5, recipe.SmoothQuant!.SmoothingStrength);
        Assert.Equal(SmoothingMapping.LlamaDefaults, recipe.SmoothQuant.Mappings);
        Assert.Equal(GptqModifier.Default with { BlockSize = 64, DampeningFrac = 0.1, ActOrder = true }, recipe.Gptq);
    }

    [Fact]
    public void No_smoothquant_drops_it_and_smoothing_strength_brings_it_back()
    {
        QuantizationRecipe without = Apply(noSmoothQuant: true);
        Assert.Null(without.SmoothQuant);

        QuantizationRecipe again = Apply(baseRecipe: without, smoothingStrength: "0.6");
        Assert.Equal(SmoothQuantModifier.Default with { SmoothingStrength = 0.6 }, again.SmoothQuant);
    }

    [Fact]
    public void Method_switches_between_gptq_and_rtn_keeping_targets_and_ignore()
    {
        var custom = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Ignore = ["lm_head", "re:.*down_proj"] } };

        QuantizationRecipe rtn = Apply(baseRecipe: custom, method: "rtn");
        Assert.Null(rtn.Gptq);
        Assert.Equal(new RtnModifier(["Linear"], "W8A8", ["lm_head", "re:.*down_proj"]), rtn.Rtn);
        Assert.Equal(custom.SmoothQuant, rtn.SmoothQuant);

        QuantizationRecipe gptq = Apply(baseRecipe: rtn, method: "GPTQ", blockSize: "32");
        Assert.Null(gptq.Rtn);
        Assert.Equal(GptqModifier.Default with { Ignore = ["lm_head", "re:.*down_proj"], BlockSize = 32 }, gptq.Gptq);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.2")]
    public void Smoothing_strength_out_of_range(string value)
    {
        Assert.Equal($"--smoothing-strength: '{value}' is outside [0, 1]", ErrorOf(() => Apply(smoothingStrength: value)));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("NaN")]
    [InlineData("0,8")]
    public void Smoothing_strength_not_a_number(string value)
    {
        Assert.Equal(
            $"--smoothing-strength: '{value}' is not a number; expected a number in [0, 1]",
            ErrorOf(() => Apply(smoothingStrength: value)));
    }

    [Fact]
    public void Block_size_errors()
    {
        Assert.Equal("--block-size: '0' is less than 1; expected an integer >= 1", ErrorOf(() => Apply(blockSize: "0")));
        Assert.Equal("--block-size: '12.5' is not an integer; expected an integer >= 1", ErrorOf(() => Apply(blockSize: "12.5")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("2e-0")]
    public void Dampening_frac_out_of_range(string value)
    {
        Assert.Equal($"--dampening-frac: '{value}' is outside (0, 1)", ErrorOf(() => Apply(dampeningFrac: value)));
    }

    [Fact]
    public void Unknown_method()
    {
        Assert.Equal("--method: 'awq' is not a quantization method; expected 'gptq' or 'rtn'", ErrorOf(() => Apply(method: "awq")));
    }

    [Fact]
    public void Gptq_flags_with_rtn_are_refused()
    {
        Assert.Equal(
            "--block-size: applies to GPTQ only but the recipe quantizes with round-to-nearest; expected --method gptq or no such flag",
            ErrorOf(() => Apply(method: "rtn", blockSize: "64")));
    }

    [Fact]
    public void Smoothing_strength_with_no_smoothquant_is_contradictory()
    {
        Assert.Equal(
            "--smoothing-strength: '0.5' was given together with --no-smoothquant; expected one of the two",
            ErrorOf(() => Apply(smoothingStrength: "0.5", noSmoothQuant: true)));
    }

    [Fact]
    public void A_bad_base_recipe_is_reported_against_the_command_line()
    {
        var bad = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Scheme = "W4A16" } };

        Assert.Equal(
            "command line: GPTQModifier.scheme 'W4A16' is not supported; expected W8A8",
            ErrorOf(() => Apply(baseRecipe: bad)));
    }
}
