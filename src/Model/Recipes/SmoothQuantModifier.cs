// Source: Xiao et al., "SmoothQuant" (arXiv:2211.10438), as configured by llm-compressor's SmoothQuantModifier.
namespace OrleansQuant.Model.Recipes;

/// <summary>
/// SmoothQuant migration strength α and where to apply it; runs before the weight quantizer so GPTQ/RTN see the
/// smoothed weights.
/// </summary>
public sealed record SmoothQuantModifier(double SmoothingStrength, IReadOnlyList<SmoothingMapping> Mappings)
{
    /// <summary>llm-compressor's recipe key for this modifier.</summary>
    public const string Name = "SmoothQuantModifier";

    /// <summary>α when a recipe leaves it out: 0.8, the value llm-compressor's W8A8 examples use for Llama.</summary>
    public const double DefaultSmoothingStrength = 0.8;

    public static SmoothQuantModifier Default { get; } = new(DefaultSmoothingStrength, SmoothingMapping.LlamaDefaults);

    public void Validate(string source)
    {
        if (!(SmoothingStrength >= 0 && SmoothingStrength <= 1))
        {
            throw new ModelFormatException(
                source, $"{Name}.smoothing_strength is {RecipeRules.Show(SmoothingStrength)}; expected a value in [0, 1]");
        }

        if (Mappings.Count == 0)
        {
            throw new ModelFormatException(
                source, $"{Name}.mappings is empty; expected at least one [balance layers, smooth layer] pair");
        }

        for (int i = 0; i < Mappings.Count; i++)
        {
            Mappings[i].Validate(source, $"{Name}.mappings[{i}]");
        }
    }

    // Written out because the compiler-generated equality compares the list by reference.
    public bool Equals(SmoothQuantModifier? other) =>
        other is not null
        && SmoothingStrength.Equals(other.SmoothingStrength)
        && RecipeRules.SameItems(Mappings, other.Mappings);

    public override int GetHashCode() => HashCode.Combine(SmoothingStrength, RecipeRules.HashItems(Mappings));
}
