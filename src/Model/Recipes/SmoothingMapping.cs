// Source: llm-compressor SmoothQuantModifier mappings (modifiers/smoothquant/utils.py: DEFAULT_SMOOTHQUANT_MAPPINGS).
namespace OrleansQuant.Model.Recipes;

/// <summary>
/// One SmoothQuant mapping: the linear layers reading the output of <see cref="SmoothLayer"/> whose input channels
/// are balanced, and the norm whose weight absorbs the inverse scales so the model's function is unchanged.
/// </summary>
public sealed record SmoothingMapping(IReadOnlyList<string> BalanceLayers, string SmoothLayer)
{
    /// <summary>llm-compressor's DEFAULT_SMOOTHQUANT_MAPPINGS, which fit Llama, Mistral and Qwen2 alike.</summary>
    public static IReadOnlyList<SmoothingMapping> LlamaDefaults { get; } =
    [
        new(["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], "re:.*input_layernorm"),
        new(["re:.*gate_proj", "re:.*up_proj"], "re:.*post_attention_layernorm"),
    ];

    /// <summary>
    /// Throws unless the balance layers are linear and the smooth layer is an RMSNorm: the runtime folds the scales
    /// into norm weights, so a linear smooth layer (llm-compressor's v_proj→o_proj style) cannot be honoured.
    /// </summary>
    public void Validate(string source, string field)
    {
        if (BalanceLayers.Count == 0)
        {
            throw new ModelFormatException(source, $"{field}.balance_layers is empty; expected at least one linear layer pattern");
        }

        for (int i = 0; i < BalanceLayers.Count; i++)
        {
            string balanceField = $"{field}.balance_layers[{i}]";
            RecipeRules.CheckRegex(source, balanceField, BalanceLayers[i]);
            if (!RecipeRules.MatchesSomeLayer(BalanceLayers[i], LayerPatterns.LinearNames))
            {
                throw new ModelFormatException(
                    source,
                    $"{balanceField} '{BalanceLayers[i]}' matches no linear layer; expected a module name or 're:' pattern matching one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
            }
        }

        RecipeRules.CheckRegex(source, $"{field}.smooth_layer", SmoothLayer);
        if (!RecipeRules.MatchesSomeLayer(SmoothLayer, LayerPatterns.NormNames))
        {
            throw new ModelFormatException(
                source,
                $"{field}.smooth_layer '{SmoothLayer}' is not a norm layer; expected a pattern matching input_layernorm or post_attention_layernorm");
        }
    }

    /// <summary>True when this mapping balances <paramref name="moduleName"/>.</summary>
    public bool Balances(string moduleName) => LayerPatterns.MatchesAny(BalanceLayers, moduleName);

    // Written out because the compiler-generated equality compares the list by reference.
    public bool Equals(SmoothingMapping? other) =>
        other is not null && SmoothLayer == other.SmoothLayer && RecipeRules.SameItems(BalanceLayers, other.BalanceLayers);

    public override int GetHashCode() => HashCode.Combine(SmoothLayer, RecipeRules.HashItems(BalanceLayers));
}
