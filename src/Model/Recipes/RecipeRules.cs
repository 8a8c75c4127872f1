// Source: llm-compressor modifiers' pydantic validation (GPTQModifier, QuantizationModifier, SmoothQuantModifier).
using System.Globalization;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// Checks shared by the recipe's modifiers, so each rule reads the same whether it fails in a recipe file or on the
/// command line, and list-valued record fields compare by content.
/// </summary>
internal static class RecipeRules
{
    /// <summary>The only quantization scheme this runtime executes (int8 weights per channel, int8 activations per token).</summary>
    public const string W8A8 = "W8A8";

    // Deeper than any published Llama/Mistral/Qwen2 (Llama 3.1 405B has 126 layers), so a pattern naming a real
    // layer index is found; patterns not tied to an index match at layer 0 and stop the search at once.
    private const int LayersSearched = 256;

    public static void CheckScheme(string source, string modifier, string scheme)
    {
        if (scheme != W8A8)
        {
            throw new ModelFormatException(source, $"{modifier}.scheme '{scheme}' is not supported; expected {W8A8}");
        }
    }

    public static void CheckTargets(string source, string modifier, IReadOnlyList<string> targets)
    {
        if (targets.Count == 0)
        {
            throw new ModelFormatException(source, $"{modifier}.targets is empty; expected at least one target such as 'Linear'");
        }

        for (int i = 0; i < targets.Count; i++)
        {
            string field = $"{modifier}.targets[{i}]";
            CheckRegex(source, field, targets[i]);
            if (targets[i] != LayerPatterns.LinearClass && !MatchesSomeLayer(targets[i], LayerPatterns.LinearNames))
            {
                throw new ModelFormatException(
                    source,
                    $"{field} '{targets[i]}' matches no linear layer; expected 'Linear' or a module name or 're:' pattern matching one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
            }
        }
    }

    public static void CheckPatterns(string source, string field, IReadOnlyList<string> patterns)
    {
        for (int i = 0; i < patterns.Count; i++)
        {
            CheckRegex(source, $"{field}[{i}]", patterns[i]);
        }
    }

    public static void CheckRegex(string source, string field, string pattern)
    {
        if (LayerPatterns.RegexError(pattern) is { } error)
        {
            throw new ModelFormatException(source, $"{field} '{pattern}' is not a valid regular expression ({error}); expected 're:' followed by a regex");
        }
    }

    public static bool MatchesSomeLayer(string pattern, Func<int, IReadOnlyList<string>> namesOfLayer) =>
        SomeLayerName(namesOfLayer, name => LayerPatterns.Matches(pattern, name));

    /// <summary>True when <paramref name="selects"/> holds for a module name of some layer up to the deepest published model.</summary>
    public static bool SomeLayerName(Func<int, IReadOnlyList<string>> namesOfLayer, Func<string, bool> selects)
    {
        for (int layer = 0; layer < LayersSearched; layer++)
        {
            foreach (string name in namesOfLayer(layer))
            {
                if (selects(name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Formats a number the way the messages quote it: invariant, shortest round-trip form.</summary>
    public static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static bool SameItems<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => a.SequenceEqual(b);

    public static int HashItems<T>(IReadOnlyList<T> items)
    {
        var hash = new HashCode();
        foreach (T item in items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }
}
