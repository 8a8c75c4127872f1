using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>SentencePiece BPE (Llama 2, Mistral) from tokenizer.model, through Microsoft.ML.Tokenizers' LlamaTokenizer.</summary>
internal sealed class SentencePieceBackend : ITokenizerBackend
{
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly Dictionary<string, int> _vocab;
    private readonly byte[]?[] _tokenBytes;

    public SentencePieceBackend(string path)
    {
        // I/O errors surface as they are; anything the parser throws means the bytes are not a ModelProto
        // (Google.Protobuf's InvalidProtocolBufferException derives from IOException, so it is caught here).
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            // BOS/EOS are added by ModelTokenizer, which knows tokenizer_config.json.
            _tokenizer = LlamaTokenizer.Create(new MemoryStream(bytes, writable: false), addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFormatException(path, $"is not a SentencePiece BPE ModelProto ({e.Message}); expected trainer_spec.model_type BPE", e);
        }

        _vocab = new Dictionary<string, int>(_tokenizer.Vocabulary, StringComparer.Ordinal);
        VocabSize = _vocab.Values.Max() + 1;
        _tokenBytes = new byte[]?[VocabSize];
        foreach (var (piece, id) in _vocab)
        {
            _tokenBytes[id] = PieceBytes(piece);
        }
    }

    public int VocabSize { get; }

    public string? DefaultBosToken => _tokenizer.BeginningOfSentenceToken;

    public string? DefaultEosToken => _tokenizer.EndOfSentenceToken;

    // SentencePiece Llama models are trained with BOS on every sequence; Hugging Face's LlamaTokenizer defaults to it.
    public bool DefaultAddBos => true;

    public bool DefaultAddEos => false;

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public List<int> Encode(string text) =>
        [.. _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: true, considerNormalization: true)];

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var list = ids as IReadOnlyCollection<int> ?? ids.ToList();
        foreach (int id in list)
        {
            TokenBytes(id);
        }

        return _tokenizer.Decode(list, considerSpecialTokens: !skipSpecialTokens);
    }

    public byte[] TokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length || _tokenBytes[id] is not { } bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id is not in this tokenizer's vocabulary (size {VocabSize})");
        }

        return bytes;
    }

    /// <summary>Byte-fallback pieces are spelled &lt;0xNN&gt;; '▁' stands for a space.</summary>
    private static byte[] PieceBytes(string piece)
    {
        if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
        {
            return [value];
        }

        return Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
    }
}
