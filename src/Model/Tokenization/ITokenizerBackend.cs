namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// One tokenizer file format behind <see cref="ModelTokenizer"/>. Backends encode without BOS/EOS so that
/// <see cref="ModelTokenizer"/> alone decides when those are added, from tokenizer_config.json.
/// </summary>
internal interface ITokenizerBackend
{
    int VocabSize { get; }

    /// <summary>The BOS token the file itself names, used when tokenizer_config.json does not.</summary>
    string? DefaultBosToken { get; }

    string? DefaultEosToken { get; }

    bool DefaultAddBos { get; }

    bool DefaultAddEos { get; }

    bool TryGetId(string token, out int id);

    List<int> Encode(string text);

    string Decode(IEnumerable<int> ids, bool skipSpecialTokens);

    /// <summary>The UTF-8 bytes one token stands for (a byte-level token may hold part of a character).</summary>
    byte[] TokenBytes(int id);
}
