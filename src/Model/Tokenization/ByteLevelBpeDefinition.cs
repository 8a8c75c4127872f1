using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>What a byte-level BPE tokenizer.json says, in the shape the runtime needs.</summary>
internal sealed class ByteLevelBpeDefinition
{
    public required string Source { get; init; }

    /// <summary>model.vocab: byte-level token text (GPT-2 byte-to-unicode form) to id.</summary>
    public required Dictionary<string, int> Vocab { get; init; }

    /// <summary>model.merges as "left right", in priority order.</summary>
    public required List<string> Merges { get; init; }

    public required List<AddedToken> AddedTokens { get; init; }

    /// <summary>Split regexes applied in order after added tokens are cut out.</summary>
    public required List<Regex> Splits { get; init; }

    public Normalizer? Normalizer { get; init; }

    /// <summary>model.ignore_merges: a pre-token found whole in the vocabulary is taken as is (Llama 3).</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>The special token the post_processor template puts first, if any (Llama 3: &lt;|begin_of_text|&gt;).</summary>
    public string? TemplateBos { get; init; }

    /// <summary>The special token the post_processor template puts last, if any.</summary>
    public string? TemplateEos { get; init; }
}
