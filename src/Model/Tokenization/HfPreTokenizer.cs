using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// The pre-tokenization of a Hugging Face tokenizer.json: added tokens are cut out first (they are matched
/// verbatim, never merged), then each remaining span is split by the configured regexes the way the
/// tokenizers crate's Split(behavior = Isolated) does: matches and the gaps between them both become pieces.
/// Microsoft.ML.Tokenizers' RegexPreTokenizer drops the gaps, which only matches Hugging Face when the
/// regex covers every character, so the gap handling is done here.
/// </summary>
internal sealed class HfPreTokenizer : PreTokenizer
{
    /// <summary>openai/gpt-2 encoder.py, used by the ByteLevel pre-tokenizer when use_regex is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly Regex? _addedTokens;
    private readonly IReadOnlyList<Regex> _splits;

    public HfPreTokenizer(IEnumerable<string> addedTokens, IReadOnlyList<Regex> splits)
    {
        // Longest first so that a token that is a prefix of another never wins the alternation.
        var alternatives = addedTokens
            .Where(t => t.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(t => t.Length)
            .ThenBy(t => t, StringComparer.Ordinal)
            .Select(Regex.Escape)
            .ToArray();
        _addedTokens = alternatives.Length == 0 ? null : new Regex(string.Join("|", alternatives), RegexOptions.CultureInvariant);
        _splits = splits;
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    /// <summary>Pieces of <paramref name="text"/> in order; <c>IsAdded</c> marks a verbatim added token.</summary>
    public IEnumerable<(int Offset, int Length, bool IsAdded)> SplitWithKinds(string text)
    {
        int position = 0;
        if (_addedTokens is not null)
        {
            for (var m = _addedTokens.Match(text); m.Success; m = m.NextMatch())
            {
                foreach (var piece in SplitPlain(text, position, m.Index - position, 0))
                {
                    yield return (piece.Offset, piece.Length, false);
                }

                yield return (m.Index, m.Length, true);
                position = m.Index + m.Length;
            }
        }

        foreach (var piece in SplitPlain(text, position, text.Length - position, 0))
        {
            yield return (piece.Offset, piece.Length, false);
        }
    }

    private IEnumerable<(int Offset, int Length)> Split(string text) =>
        SplitWithKinds(text).Select(p => (p.Offset, p.Length));

    private IEnumerable<(int Offset, int Length)> SplitPlain(string text, int offset, int length, int splitIndex)
    {
        if (length == 0)
        {
            yield break;
        }

        if (splitIndex == _splits.Count)
        {
            yield return (offset, length);
            yield break;
        }

        int position = offset;
        int end = offset + length;
        for (var m = _splits[splitIndex].Match(text, offset, length); m.Success; m = m.NextMatch())
        {
            // An empty match splits nothing (the tokenizers crate skips them too).
            if (m.Length == 0)
            {
                continue;
            }

            foreach (var piece in SplitPlain(text, position, m.Index - position, splitIndex + 1))
            {
                yield return piece;
            }

            foreach (var piece in SplitPlain(text, m.Index, m.Length, splitIndex + 1))
            {
                yield return piece;
            }

            position = m.Index + m.Length;
        }

        foreach (var piece in SplitPlain(text, position, end - position, splitIndex + 1))
        {
            yield return piece;
        }
    }
}
