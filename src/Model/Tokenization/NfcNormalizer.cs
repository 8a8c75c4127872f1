using System.Text;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// tokenizer.json normalizer {"type":"NFC"} (Qwen2). Microsoft.ML.Tokenizers ships no Unicode-form normalizer,
/// so this uses string.Normalize, which needs ICU: with InvariantGlobalization (as this repository builds)
/// .NET leaves non-ASCII text unchanged. Text that is already NFC — nearly all real input — tokenizes the
/// same either way; decomposed input (e + U+0301) then differs from Hugging Face. <see cref="IsAvailable"/>
/// tells which case applies.
/// </summary>
internal sealed class NfcNormalizer : Normalizer
{
    public static NfcNormalizer Instance { get; } = new();

    /// <summary>Whether this process can compose Unicode (false under invariant globalization).</summary>
    public static bool IsAvailable { get; } = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);

    public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
}
