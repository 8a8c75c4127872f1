using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// Writes byte-level BPE tokenizer.json / tokenizer_config.json files in the layout the Hugging Face
/// tokenizers library reads. Output is byte-for-byte deterministic (fixed key order, "\n" newlines) so that
/// synthetic demo models hash the same on every machine.
/// </summary>
internal static class TokenizerJsonWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        NewLine = "\n",

        // Keep byte-level characters such as 'Ġ' readable instead of \u0120; the tokenizers library reads both.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="vocab">Tokens in byte-level form, index = id.</param>
    /// <param name="bosTemplate">When set, a TemplateProcessing post_processor prepends this added token.</param>
    public static void WriteTokenizerJson(
        string path,
        IReadOnlyList<string> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyList<AddedToken> addedTokens,
        string? bosTemplate)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, Options);
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");

        w.WriteStartArray("added_tokens");
        foreach (var token in addedTokens)
        {
            w.WriteStartObject();
            w.WriteNumber("id", token.Id);
            w.WriteString("content", token.Content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", token.Special);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNull("normalizer");

        w.WriteStartObject("pre_tokenizer");
        WriteByteLevel(w, addPrefixSpace: false, trimOffsets: true);
        w.WriteEndObject();

        w.WriteStartObject("post_processor");
        if (bosTemplate is null)
        {
            WriteByteLevel(w, addPrefixSpace: true, trimOffsets: false);
        }
        else
        {
            WriteBosTemplate(w, bosTemplate, addedTokens.Single(t => t.Content == bosTemplate).Id);
        }

        w.WriteEndObject();

        w.WriteStartObject("decoder");
        WriteByteLevel(w, addPrefixSpace: true, trimOffsets: true);
        w.WriteEndObject();

        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteStartObject("vocab");
        for (int id = 0; id < vocab.Count; id++)
        {
            w.WriteNumber(vocab[id], id);
        }

        w.WriteEndObject();

        // The "left right" string form is read by every tokenizers version; the [left, right] form only by 0.20+.
        w.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            w.WriteStringValue(left + " " + right);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    public static void WriteTokenizerConfig(string path, string bosToken, string eosToken, bool addBos, int? modelMaxLength, string tokenizerClass)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, Options);
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", addBos);
        w.WriteBoolean("add_eos_token", false);
        w.WriteString("bos_token", bosToken);
        w.WriteString("eos_token", eosToken);
        w.WriteString("unk_token", eosToken);

        // Decoding must give back the exact text; the old default true rewrites " ," to ",".
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        if (modelMaxLength is int max)
        {
            w.WriteNumber("model_max_length", max);
        }

        w.WriteString("tokenizer_class", tokenizerClass);
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    private static void WriteByteLevel(Utf8JsonWriter w, bool addPrefixSpace, bool trimOffsets)
    {
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
    }

    private static void WriteBosTemplate(Utf8JsonWriter w, string bos, int bosId)
    {
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        WriteSpecial(w, bos, 0);
        WriteSequence(w, "A", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        WriteSpecial(w, bos, 0);
        WriteSequence(w, "A", 0);
        WriteSpecial(w, bos, 1);
        WriteSequence(w, "B", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        w.WriteStartObject(bos);
        w.WriteString("id", bos);
        w.WriteStartArray("ids");
        w.WriteNumberValue(bosId);
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        w.WriteStringValue(bos);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSpecial(Utf8JsonWriter w, string token, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", token);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSequence(Utf8JsonWriter w, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
