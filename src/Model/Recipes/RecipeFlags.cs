using System.Globalization;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// Applies the quantize command's flags on top of a recipe (the default one or one read from --recipe). Values
/// arrive as the raw strings the user typed, so an error can quote them and name the flag rather than a recipe field.
/// </summary>
public static class RecipeFlags
{
    /// <summary>What errors from the final whole-recipe check name when no single flag is to blame.</summary>
    public const string CommandLineSource = "command line";

    /// <param name="baseRecipe">The recipe the flags adjust.</param>
    /// <param name="smoothingStrength">--smoothing-strength: SmoothQuant α in [0, 1]; adds SmoothQuant with the Llama mappings if absent.</param>
    /// <param name="blockSize">--block-size: GPTQ block size, an integer ≥ 1.</param>
    /// <param name="dampeningFrac">--dampening-frac: GPTQ dampening in (0, 1).</param>
    /// <param name="actOrder">--act-order: GPTQ activation ordering.</param>
    /// <param name="noSmoothQuant">--no-smoothquant: drop SmoothQuant.</param>
    /// <param name="method">--method: "gptq" or "rtn"; switching keeps targets, scheme and ignore.</param>
    public static QuantizationRecipe Apply(
        QuantizationRecipe baseRecipe,
        string? smoothingStrength,
        string? blockSize,
        string? dampeningFrac,
        bool? actOrder,
        bool noSmoothQuant,
        string? method)
    {
        ArgumentNullException.ThrowIfNull(baseRecipe);
        QuantizationRecipe recipe = baseRecipe;

        if (method is not null)
        {
            recipe = SwitchMethod(recipe, method);
        }

        if (noSmoothQuant && smoothingStrength is not null)
        {
            throw new ModelFormatException(
                "--smoothing-strength", $"'{smoothingStrength}' was given together with --no-smoothquant; expected one of the two");
        }

        if (noSmoothQuant)
        {
            recipe = recipe with { SmoothQuant = null };
        }
        else if (smoothingStrength is not null)
        {
            double alpha = ParseDouble("--smoothing-strength", smoothingStrength, "a number in [0, 1]");
            if (!(alpha >= 0 && alpha <= 1))
            {
                throw new ModelFormatException("--smoothing-strength", $"'{smoothingStrength}' is outside [0, 1]");
            }

            recipe = recipe with { SmoothQuant = (recipe.SmoothQuant ?? SmoothQuantModifier.Default) with { SmoothingStrength = alpha } };
        }

        if (blockSize is not null)
        {
            if (!int.TryParse(blockSize, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int size))
            {
                throw new ModelFormatException("--block-size", $"'{blockSize}' is not an integer; expected an integer >= 1");
            }

            if (size < 1)
            {
                throw new ModelFormatException("--block-size", $"'{blockSize}' is less than 1; expected an integer >= 1");
            }

            recipe = recipe with { Gptq = RequireGptq(recipe, "--block-size") with { BlockSize = size } };
        }

        if (dampeningFrac is not null)
        {
            double damp = ParseDouble("--dampening-frac", dampeningFrac, "a number in (0, 1)");
            if (!(damp > 0 && damp < 1))
            {
                throw new ModelFormatException("--dampening-frac", $"'{dampeningFrac}' is outside (0, 1)");
            }

            recipe = recipe with { Gptq = RequireGptq(recipe, "--dampening-frac") with { DampeningFrac = damp } };
        }

        if (actOrder is { } order)
        {
            recipe = recipe with { Gptq = RequireGptq(recipe, "--act-order") with { ActOrder = order } };
        }

        recipe.Validate(CommandLineSource);
        return recipe;
    }

    private static QuantizationRecipe SwitchMethod(QuantizationRecipe recipe, string method)
    {
        switch (method.ToLowerInvariant())
        {
            case "gptq":
                if (recipe.Gptq is not null)
                {
                    return recipe;
                }

                GptqModifier gptq = recipe.Rtn is { } rtn
                    ? GptqModifier.Default with { Targets = rtn.Targets, Scheme = rtn.Scheme, Ignore = rtn.Ignore }
                    : GptqModifier.Default;
                return recipe with { Gptq = gptq, Rtn = null };
            case "rtn":
                if (recipe.Rtn is not null)
                {
                    return recipe;
                }

                RtnModifier rtnModifier = recipe.Gptq is { } g ? new RtnModifier(g.Targets, g.Scheme, g.Ignore) : RtnModifier.Default;
                return recipe with { Gptq = null, Rtn = rtnModifier };
            default:
                throw new ModelFormatException("--method", $"'{method}' is not a quantization method; expected 'gptq' or 'rtn'");
        }
    }

    private static GptqModifier RequireGptq(QuantizationRecipe recipe, string flag) =>
        recipe.Gptq ?? throw new ModelFormatException(
            flag, "applies to GPTQ only but the recipe quantizes with round-to-nearest; expected --method gptq or no such flag");

    private static double ParseDouble(string flag, string text, string expected)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new ModelFormatException(flag, $"'{text}' is not a number; expected {expected}");
        }

        return value;
    }
}
