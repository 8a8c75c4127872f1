using CsCheck;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tests.Recipes;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>Recipes (YAML and JSON), mutated and generated: read, or refused naming the recipe.</summary>
public sealed class RecipeFuzzTests
{
    private const string Source = "fuzz-recipe.yaml";

    // YAML pieces that recipes are made of, and some they must not be (anchors, aliases, tags, flow mixes).
    private static readonly string[] s_pieces =
    [
        "GPTQModifier:", "QuantizationModifier:", "SmoothQuantModifier:", "quant_stage:", "quant_modifiers:", "targets:", "ignore:",
        "scheme:", "W8A8", "Linear", "lm_head", "\"re:.*\"", "\"re:(\"", "block_size:", "dampening_frac:", "actorder:", "mappings:",
        "smoothing_strength:", "1e308", "-1", "0.5", "[", "]", "{", "}", ",", "- ", "&a", "*a", "!!str", "~", "null", "true", "\n", "  ", ": ",
    ];

    [Fact]
    public void Mutated_recipes_are_read_or_refused_by_name() =>
        Gen.Select(Gen.OneOf(RecipeTexts.W8A8Yaml, RecipeTexts.W8A8Json, RecipeWriter.ToYaml(QuantizationRecipe.Default)), Gen.Int[0, Mutations.Kinds - 1], Gen.Int)
            .Sample((text, kind, seed) => Read(Mutations.Apply(text, kind, seed)), iter: FuzzRules.Cases);

    [Fact]
    public void Recipes_made_of_recipe_pieces_are_read_or_refused_by_name() =>
        Gen.OneOf<string>(s_pieces).Array[0, 40].Select(pieces => string.Join(" ", pieces))
            .Sample(Read, iter: FuzzRules.Cases);

    [Fact]
    public void Deeply_nested_recipes_are_refused_by_name() =>
        Gen.Select(Gen.Int[1, 5000], Gen.OneOf("[", "{a: ", "- ", "{\"a\": ")).Sample(
            (depth, open) => Read("GPTQModifier: " + string.Concat(Enumerable.Repeat(open, depth))),
            iter: FuzzRules.Cases);

    private static void Read(string text) =>
        FuzzRules.ReadsOrRefuses<ModelFormatException>(Source, () => RecipeReader.Parse(text, Source));
}
