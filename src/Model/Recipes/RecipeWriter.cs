// Source: llm-compressor recipe layout (recipe/recipe.py yaml()): quant_stage → quant_modifiers → modifiers.
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// <see cref="QuantizationRecipe"/> → recipe.yaml in llm-compressor's stage layout, so the recipe saved beside a
/// quantized checkpoint documents how it was made and reads back (here or in llm-compressor) to the same recipe.
/// </summary>
public static class RecipeWriter
{
    // Strings are written JSON-quoted: JSON string syntax is valid YAML double-quoted syntax, and quoting keeps
    // "re:" patterns, backslashes and words like "null" from being re-typed on the way back in.
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ToYaml(QuantizationRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var yaml = new StringBuilder();
        yaml.Append("quant_stage:\n");
        yaml.Append("  quant_modifiers:\n");
        if (recipe.SmoothQuant is { } smooth)
        {
            yaml.Append($"    {SmoothQuantModifier.Name}:\n");
            yaml.Append($"      smoothing_strength: {Number(smooth.SmoothingStrength)}\n");
            yaml.Append("      mappings:\n");
            foreach (SmoothingMapping mapping in smooth.Mappings)
            {
                yaml.Append($"        - [{List(mapping.BalanceLayers)}, {Quote(mapping.SmoothLayer)}]\n");
            }
        }

        if (recipe.Gptq is { } gptq)
        {
            yaml.Append($"    {GptqModifier.Name}:\n");
            yaml.Append($"      targets: {List(gptq.Targets)}\n");
            yaml.Append($"      scheme: {Quote(gptq.Scheme)}\n");
            yaml.Append($"      ignore: {List(gptq.Ignore)}\n");
            yaml.Append($"      block_size: {gptq.BlockSize.ToString(CultureInfo.InvariantCulture)}\n");
            yaml.Append($"      dampening_frac: {Number(gptq.DampeningFrac)}\n");
            // "static" is llm-compressor's name for act-order with scales fixed before the column sweep, which is
            // what per-channel act-order amounts to; false is what its recipes write for "off".
            yaml.Append($"      actorder: {(gptq.ActOrder ? "static" : "false")}\n");
        }

        if (recipe.Rtn is { } rtn)
        {
            yaml.Append($"    {RtnModifier.Name}:\n");
            yaml.Append($"      targets: {List(rtn.Targets)}\n");
            yaml.Append($"      scheme: {Quote(rtn.Scheme)}\n");
            yaml.Append($"      ignore: {List(rtn.Ignore)}\n");
        }

        return yaml.ToString();
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text, Quoting);

    private static string List(IReadOnlyList<string> items) => "[" + string.Join(", ", items.Select(Quote)) + "]";

    // PyYAML (YAML 1.1) reads a plain scalar as a float only when it has a '.', so "1E-05" or "1" would come
    // back as a string or an int: the mantissa always gets one.
    private static string Number(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        int exponent = text.IndexOf('E', StringComparison.Ordinal);
        string mantissa = exponent < 0 ? text : text[..exponent];
        if (!mantissa.Contains('.', StringComparison.Ordinal))
        {
            mantissa += ".0";
        }

        return exponent < 0 ? mantissa : mantissa + "e" + text[(exponent + 1)..];
    }
}
