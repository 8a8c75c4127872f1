// Source: llm-compressor / compressed-tensors module matching (utils/match.py: is_match, match_name).
using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// The target/ignore/mapping patterns of llm-compressor recipes, matched against Hugging Face module names
/// such as <c>model.layers.3.self_attn.q_proj</c>, so a recipe written for llm-compressor selects the same layers here.
/// </summary>
public static class LayerPatterns
{
    /// <summary>The class name llm-compressor recipes use to mean "every nn.Linear".</summary>
    public const string LinearClass = "Linear";

    /// <summary>Prefix that turns a pattern into a regular expression.</summary>
    public const string RegexPrefix = "re:";

    // Every Llama/Mistral/Qwen2 nn.Linear ends in one of these; lm_head is the only one outside the decoder layers.
    private static readonly string[] LinearLeaves =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    // Recipes are matched against thousands of module names; compiling each pattern once keeps that cheap.
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="pattern"/> selects <paramref name="moduleName"/>: "re:" patterns are regular
    /// expressions anchored at the start like Python's re.match; "Linear" selects every linear module; anything
    /// else must equal the module name or a suffix of it that starts after a '.'.
    /// </summary>
    /// <exception cref="ArgumentException">The "re:" pattern is not a valid regular expression.</exception>
    public static bool Matches(string pattern, string moduleName)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(moduleName);
        if (pattern.StartsWith(RegexPrefix, StringComparison.Ordinal))
        {
            return RegexOf(pattern).IsMatch(moduleName);
        }

        if (pattern == LinearClass)
        {
            return IsLinear(moduleName);
        }

        return moduleName == pattern
            || (moduleName.Length > pattern.Length
                && moduleName.EndsWith(pattern, StringComparison.Ordinal)
                && moduleName[moduleName.Length - pattern.Length - 1] == '.');
    }

    /// <summary>True when any of <paramref name="patterns"/> selects <paramref name="moduleName"/>.</summary>
    public static bool MatchesAny(IEnumerable<string> patterns, string moduleName) =>
        patterns.Any(pattern => Matches(pattern, moduleName));

    /// <summary>True for the modules that are nn.Linear in a Llama/Mistral/Qwen2 model (the 7 projections and lm_head).</summary>
    public static bool IsLinear(string moduleName)
    {
        string leaf = moduleName[(moduleName.LastIndexOf('.') + 1)..];
        return leaf == "lm_head" || LinearLeaves.Contains(leaf);
    }

    /// <summary>The 7 linear module names of decoder layer <paramref name="layer"/>, in checkpoint order.</summary>
    public static IReadOnlyList<string> LinearNames(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        string prefix = $"model.layers.{layer}.";
        return
        [
            prefix + "self_attn.q_proj",
            prefix + "self_attn.k_proj",
            prefix + "self_attn.v_proj",
            prefix + "self_attn.o_proj",
            prefix + "mlp.gate_proj",
            prefix + "mlp.up_proj",
            prefix + "mlp.down_proj",
        ];
    }

    /// <summary>The 2 RMSNorm module names of decoder layer <paramref name="layer"/>: the ones SmoothQuant can fold scales into.</summary>
    public static IReadOnlyList<string> NormNames(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        return [$"model.layers.{layer}.input_layernorm", $"model.layers.{layer}.post_attention_layernorm"];
    }

    /// <summary>Null when the "re:" pattern compiles (or is not a regex); otherwise why it does not.</summary>
    internal static string? RegexError(string pattern)
    {
        if (!pattern.StartsWith(RegexPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            RegexOf(pattern);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static Regex RegexOf(string pattern) =>
        Compiled.GetOrAdd(
            pattern,
            // Python's re.match anchors only at the start; the group keeps alternations inside the anchor.
            static p => new Regex("^(?:" + p[RegexPrefix.Length..] + ")", RegexOptions.CultureInvariant));
}
