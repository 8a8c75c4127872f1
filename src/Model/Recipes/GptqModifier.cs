// Source: Frantar et al., "GPTQ" (arXiv:2210.17323), as configured by llm-compressor's GPTQModifier.
namespace OrleansQuant.Model.Recipes;

/// <summary>
/// GPTQ weight quantization: which linear layers, the scheme, and the solver's block size, Hessian dampening
/// (fraction of the mean diagonal) and activation ordering.
/// </summary>
public sealed record GptqModifier(
    IReadOnlyList<string> Targets,
    string Scheme,
    IReadOnlyList<string> Ignore,
    int BlockSize,
    double DampeningFrac,
    bool ActOrder)
{
    /// <summary>llm-compressor's recipe key for this modifier.</summary>
    public const string Name = "GPTQModifier";

    public const int DefaultBlockSize = 128;

    public const double DefaultDampeningFrac = 0.01;

    /// <summary>Every linear except lm_head (kept in full precision, as llm-compressor's W8A8 examples do), W8A8.</summary>
    public static GptqModifier Default { get; } =
        new([LayerPatterns.LinearClass], RecipeRules.W8A8, ["lm_head"], DefaultBlockSize, DefaultDampeningFrac, ActOrder: false);

    /// <summary>True when a target selects <paramref name="moduleName"/> and no ignore pattern does.</summary>
    public bool Quantizes(string moduleName) =>
        LayerPatterns.MatchesAny(Targets, moduleName) && !LayerPatterns.MatchesAny(Ignore, moduleName);

    public void Validate(string source)
    {
        RecipeRules.CheckTargets(source, Name, Targets);
        RecipeRules.CheckScheme(source, Name, Scheme);
        RecipeRules.CheckPatterns(source, $"{Name}.ignore", Ignore);
        if (BlockSize < 1)
        {
            throw new ModelFormatException(source, $"{Name}.block_size is {BlockSize}; expected an integer >= 1");
        }

        if (!(DampeningFrac > 0 && DampeningFrac < 1))
        {
            throw new ModelFormatException(
                source, $"{Name}.dampening_frac is {RecipeRules.Show(DampeningFrac)}; expected a value in (0, 1)");
        }
    }

    // Written out because the compiler-generated equality compares the lists by reference.
    public bool Equals(GptqModifier? other) =>
        other is not null
        && RecipeRules.SameItems(Targets, other.Targets)
        && Scheme == other.Scheme
        && RecipeRules.SameItems(Ignore, other.Ignore)
        && BlockSize == other.BlockSize
        && DampeningFrac.Equals(other.DampeningFrac)
        && ActOrder == other.ActOrder;

    public override int GetHashCode() =>
        HashCode.Combine(RecipeRules.HashItems(Targets), Scheme, RecipeRules.HashItems(Ignore), BlockSize, DampeningFrac, ActOrder);
}
