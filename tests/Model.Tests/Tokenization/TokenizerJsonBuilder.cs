using System.Text.Json.Nodes;

namespace OrleansQuant.Model.Tests.Tokenization;

/// <summary>
/// Small tokenizer.json files shaped like real checkpoints' (Llama 3, Qwen2), over a vocabulary of the
/// 256 byte-level characters (id = byte) plus a few merged tokens, for adapter tests with hand-checkable ids.
/// </summary>
public static class TokenizerJsonBuilder
{
    /// <summary>Llama 3's pre-tokenizer regex, as in its tokenizer.json.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const int He = 256;
    public const int Ll = 257;
    public const int Hell = 258;
    public const int Hello = 259;
    public const int SpaceW = 260;

    /// <summary>In the vocabulary but reachable by no merge: only ignore_merges can produce it.</summary>
    public const int SpaceWorld = 261;
    public const int BeginOfText = 262;
    public const int EndOfText = 263;
    public const int EotId = 264;

    public static JsonObject Llama3Like(bool ignoreMerges = true)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteChar(b)] = b;
        }

        vocab["he"] = He;
        vocab["ll"] = Ll;
        vocab["hell"] = Hell;
        vocab["hello"] = Hello;
        vocab["Ġw"] = SpaceW;
        vocab["Ġworld"] = SpaceWorld;

        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                Added(BeginOfText, "<|begin_of_text|>"),
                Added(EndOfText, "<|end_of_text|>"),
                Added(EotId, "<|eot_id|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["processors"] = new JsonArray(
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                    new JsonObject
                    {
                        ["type"] = "TemplateProcessing",
                        ["single"] = new JsonArray(
                            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                    }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,

                // The [left, right] form written by tokenizers 0.20+.
                ["merges"] = new JsonArray(Pair("h", "e"), Pair("l", "l"), Pair("he", "ll"), Pair("hell", "o"), Pair("Ġ", "w")),
            },
        };
    }

    public static void Write(string directory, JsonObject tokenizer, string? config = null)
    {
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config);
        }
    }

    /// <summary>GPT-2's byte-to-unicode character for byte b.</summary>
    public static string ByteChar(int b)
    {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        if (printable)
        {
            return ((char)b).ToString();
        }

        int shifted = 256;
        for (int other = 0; other < b; other++)
        {
            bool otherPrintable = (other >= '!' && other <= '~') || (other >= 0xA1 && other <= 0xAC) || other >= 0xAE;
            if (!otherPrintable)
            {
                shifted++;
            }
        }

        return ((char)shifted).ToString();
    }

    private static JsonObject Added(int id, string content) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = true,
    };

    private static JsonArray Pair(string left, string right) => new(left, right);
}
