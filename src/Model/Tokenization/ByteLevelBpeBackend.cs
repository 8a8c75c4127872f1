using System.Text;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2, Llama 3, Qwen2) from a tokenizer.json. The Hugging Face pipeline is
/// normalize → cut out added tokens → regex split → map bytes to the byte-level alphabet → BPE per piece.
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> runs the BPE step on pieces that are already in the
/// byte-level alphabet; the steps around it are done here so that added tokens, Split gaps and ignore_merges
/// behave exactly as in the tokenizers crate.
/// </summary>
internal sealed class ByteLevelBpeBackend : ITokenizerBackend
{
    private readonly BpeTokenizer _bpe;
    private readonly HfPreTokenizer _preTokenizer;
    private readonly Normalizer? _normalizer;
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int> _added;
    private readonly HashSet<int> _specialIds;
    private readonly byte[]?[] _tokenBytes;
    private readonly bool _ignoreMerges;

    public ByteLevelBpeBackend(ByteLevelBpeDefinition definition)
    {
        _vocab = definition.Vocab;
        for (int b = 0; b < 256; b++)
        {
            // BPE starts from single bytes; a byte missing from the vocabulary could not be encoded at all.
            if (!_vocab.ContainsKey(ByteLevelAlphabet.ToChar((byte)b).ToString()))
            {
                throw new ModelFormatException(definition.Source, $"model.vocab has no entry for byte 0x{b:X2} (\"{ByteLevelAlphabet.ToChar((byte)b)}\"); expected all 256 byte-level tokens");
            }
        }

        _added = new Dictionary<string, int>(StringComparer.Ordinal);
        _specialIds = [];
        foreach (var token in definition.AddedTokens)
        {
            _added[token.Content] = token.Id;
            if (token.Special)
            {
                _specialIds.Add(token.Id);
            }
        }

        int maxId = Math.Max(_vocab.Values.Max(), definition.AddedTokens.Count == 0 ? -1 : definition.AddedTokens.Max(t => t.Id));
        VocabSize = maxId + 1;
        _tokenBytes = new byte[]?[VocabSize];
        foreach (var (token, id) in _vocab)
        {
            // A vocabulary entry outside the byte-level alphabet can only be matched verbatim; take its UTF-8.
            _tokenBytes[id] = ByteLevelAlphabet.TryDecode(token, out var bytes) ? bytes : Encoding.UTF8.GetBytes(token);
        }

        foreach (var token in definition.AddedTokens)
        {
            _tokenBytes[token.Id] = Encoding.UTF8.GetBytes(token.Content);
        }

        _preTokenizer = new HfPreTokenizer(_added.Keys, definition.Splits);
        _normalizer = definition.Normalizer;
        _ignoreMerges = definition.IgnoreMerges;
        _bpe = BpeTokenizer.Create(new BpeOptions(_vocab)
        {
            Merges = definition.Merges,
            ByteLevel = false,
        });
        DefaultBosToken = definition.TemplateBos;
        DefaultEosToken = definition.TemplateEos;
        DefaultAddBos = definition.TemplateBos is not null;
        DefaultAddEos = definition.TemplateEos is not null;
    }

    public int VocabSize { get; }

    public string? DefaultBosToken { get; }

    public string? DefaultEosToken { get; }

    public bool DefaultAddBos { get; }

    public bool DefaultAddEos { get; }

    public bool TryGetId(string token, out int id) =>
        _added.TryGetValue(token, out id) || _vocab.TryGetValue(token, out id);

    public List<int> Encode(string text)
    {
        string normalized = _normalizer?.Normalize(text) ?? text;
        var ids = new List<int>(normalized.Length / 3 + 1);
        foreach (var (offset, length, isAdded) in _preTokenizer.SplitWithKinds(normalized))
        {
            string piece = normalized.Substring(offset, length);
            if (isAdded)
            {
                ids.Add(_added[piece]);
                continue;
            }

            string mapped = ByteLevelAlphabet.EncodeUtf8(piece);
            if (_ignoreMerges && _vocab.TryGetValue(mapped, out int whole))
            {
                ids.Add(whole);
                continue;
            }

            // considerPreTokenization must be off: with BpeOptions.PreTokenizer null, 2.0.1 falls back to a
            // word/non-word RegexPreTokenizer that silently drops whitespace ("a b" encodes as "ab").
            ids.AddRange(_bpe.EncodeToIds(mapped, considerPreTokenization: false, considerNormalization: false));
        }

        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (skipSpecialTokens && _specialIds.Contains(id))
            {
                continue;
            }

            bytes.AddRange(TokenBytes(id));
        }

        // Invalid UTF-8 (a sequence cut between tokens) becomes U+FFFD, as in the tokenizers crate.
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public byte[] TokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length || _tokenBytes[id] is not { } bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id is not in this tokenizer's vocabulary (size {VocabSize})");
        }

        return bytes;
    }
}
