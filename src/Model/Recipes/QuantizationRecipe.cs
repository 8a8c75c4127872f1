// Source: llm-compressor recipes (recipe/recipe.py): an optional SmoothQuantModifier followed by one weight quantizer.
namespace OrleansQuant.Model.Recipes;

/// <summary>
/// What to do to a model: optionally SmoothQuant, then exactly one weight quantizer (GPTQ or round-to-nearest).
/// Read from llm-compressor-style YAML/JSON by <see cref="RecipeReader"/>, written by <see cref="RecipeWriter"/>,
/// adjusted from CLI flags by <see cref="RecipeFlags"/>.
/// </summary>
public sealed record QuantizationRecipe(SmoothQuantModifier? SmoothQuant, GptqModifier? Gptq, RtnModifier? Rtn)
{
    /// <summary>SmoothQuant α 0.8 with the Llama mappings, then GPTQ W8A8 on every linear but lm_head.</summary>
    public static QuantizationRecipe Default { get; } = new(SmoothQuantModifier.Default, GptqModifier.Default, Rtn: null);

    /// <summary>The ignore patterns of whichever weight quantizer the recipe uses.</summary>
    public IReadOnlyList<string> Ignore => Gptq?.Ignore ?? Rtn?.Ignore ?? [];

    /// <summary>The target patterns of whichever weight quantizer the recipe uses.</summary>
    public IReadOnlyList<string> Targets => Gptq?.Targets ?? Rtn?.Targets ?? [];

    /// <summary>True when the recipe's weight quantizer quantizes <paramref name="moduleName"/>.</summary>
    public bool Quantizes(string moduleName) =>
        Gptq?.Quantizes(moduleName) ?? Rtn?.Quantizes(moduleName) ?? false;

    /// <summary>Throws a <see cref="ModelFormatException"/> naming <paramref name="source"/> and the bad field.</summary>
    public void Validate(string source)
    {
        if (Gptq is not null && Rtn is not null)
        {
            throw new ModelFormatException(
                source, $"recipe has both {GptqModifier.Name} and {RtnModifier.Name}; expected exactly one weight quantizer");
        }

        if (Gptq is null && Rtn is null)
        {
            throw new ModelFormatException(
                source, $"recipe has neither {GptqModifier.Name} nor {RtnModifier.Name}; expected exactly one weight quantizer");
        }

        SmoothQuant?.Validate(source);
        Gptq?.Validate(source);
        Rtn?.Validate(source);

        // Otherwise the "quantized" checkpoint would be the original under a quantization_config, with no warning.
        if (!RecipeRules.SomeLayerName(LayerPatterns.LinearNames, Quantizes))
        {
            string modifier = Gptq is not null ? GptqModifier.Name : RtnModifier.Name;
            throw new ModelFormatException(
                source,
                $"recipe quantizes no layer: {modifier}.ignore [{string.Join(", ", Ignore.Select(p => $"'{p}'"))}] excludes every linear layer {modifier}.targets [{string.Join(", ", Targets.Select(p => $"'{p}'"))}] select; expected at least one decoder-layer linear to quantize");
        }
    }
}
