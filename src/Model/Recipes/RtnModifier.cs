// Source: llm-compressor's QuantizationModifier (round-to-nearest with min-max per-channel scales, no calibration of weights).
namespace OrleansQuant.Model.Recipes;

/// <summary>
/// Round-to-nearest weight quantization: the cheap baseline GPTQ is measured against, needing no Hessians.
/// </summary>
public sealed record RtnModifier(IReadOnlyList<string> Targets, string Scheme, IReadOnlyList<string> Ignore)
{
    /// <summary>llm-compressor's recipe key for this modifier.</summary>
    public const string Name = "QuantizationModifier";

    public static RtnModifier Default { get; } = new([LayerPatterns.LinearClass], RecipeRules.W8A8, ["lm_head"]);

    /// <summary>True when a target selects <paramref name="moduleName"/> and no ignore pattern does.</summary>
    public bool Quantizes(string moduleName) =>
        LayerPatterns.MatchesAny(Targets, moduleName) && !LayerPatterns.MatchesAny(Ignore, moduleName);

    public void Validate(string source)
    {
        RecipeRules.CheckTargets(source, Name, Targets);
        RecipeRules.CheckScheme(source, Name, Scheme);
        RecipeRules.CheckPatterns(source, $"{Name}.ignore", Ignore);
    }

    // Written out because the compiler-generated equality compares the lists by reference.
    public bool Equals(RtnModifier? other) =>
        other is not null
        && RecipeRules.SameItems(Targets, other.Targets)
        && Scheme == other.Scheme
        && RecipeRules.SameItems(Ignore, other.Ignore);

    public override int GetHashCode() =>
        HashCode.Combine(RecipeRules.HashItems(Targets), Scheme, RecipeRules.HashItems(Ignore));
}
