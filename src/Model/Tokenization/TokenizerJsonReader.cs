using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// Reads the byte-level BPE subset of the Hugging Face tokenizers format (tokenizer.json) that Llama 3,
/// Qwen2 and GPT-2 checkpoints use. Microsoft.ML.Tokenizers has no tokenizer.json reader, so this adapter
/// maps the fields onto what it and <see cref="HfPreTokenizer"/> understand and rejects what it cannot map,
/// because silently tokenizing differently from the model's training would corrupt calibration and serving.
/// </summary>
internal static class TokenizerJsonReader
{
    /// <summary>
    /// Whether the file describes a SentencePiece-style BPE (byte_fallback, ▁ for spaces: Llama 2, Mistral)
    /// rather than a byte-level one. Those repositories also ship tokenizer.model, which is read instead.
    /// </summary>
    public static bool IsSentencePieceStyle(JsonElement root)
    {
        if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
            && model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
        {
            return true;
        }

        return root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object
            && !ContainsType(pre, "ByteLevel");
    }

    public static ByteLevelBpeDefinition Read(string source, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(source, "expected a JSON object at the top level");
        }

        var model = RequireObject(source, root, "model", "model");
        string type = model.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
            ? typeElement.GetString()!
            : throw new ModelFormatException(source, "model.type is missing; expected \"BPE\"");
        if (type != "BPE")
        {
            throw new ModelFormatException(source, $"model.type is \"{type}\"; expected \"BPE\" (only byte-level BPE tokenizer.json files are supported)");
        }

        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
        {
            throw new ModelFormatException(source, "model.dropout is set; expected null or 0 (BPE dropout makes encoding random)");
        }

        if (IsSentencePieceStyle(root))
        {
            throw new ModelFormatException(source,
                "describes a SentencePiece-style BPE (model.byte_fallback or a pre_tokenizer without ByteLevel); expected a ByteLevel pre_tokenizer, or a tokenizer.model beside it");
        }

        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model.TryGetProperty(affix, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0)
            {
                throw new ModelFormatException(source, $"model.{affix} is \"{value.GetString()}\"; expected null or \"\" for byte-level BPE");
            }
        }

        var vocab = ReadVocab(source, RequireObject(source, model, "vocab", "model.vocab"));
        var merges = ReadMerges(source, model);
        var added = ReadAddedTokens(source, root);
        var (bos, eos) = ReadTemplate(source, root);

        return new ByteLevelBpeDefinition
        {
            Source = source,
            Vocab = vocab,
            Merges = merges,
            AddedTokens = added,
            Splits = ReadPreTokenizer(source, root),
            Normalizer = ReadNormalizer(source, root),
            IgnoreMerges = model.TryGetProperty("ignore_merges", out var ignore) && ignore.ValueKind == JsonValueKind.True,
            TemplateBos = bos,
            TemplateEos = eos,
        };
    }

    private static Dictionary<string, int> ReadVocab(string source, JsonElement vocabElement)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);

        // Ids must be unique: the id → token map would otherwise have two answers (and the BPE library throws on it).
        var tokenOfId = new Dictionary<int, string>();
        foreach (var entry in vocabElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new ModelFormatException(source, $"model.vocab[\"{entry.Name}\"] is {entry.Value}; expected a non-negative integer id");
            }

            if (!tokenOfId.TryAdd(id, entry.Name) && tokenOfId[id] != entry.Name)
            {
                throw new ModelFormatException(source, $"model.vocab gives id {id} to both \"{tokenOfId[id]}\" and \"{entry.Name}\"; expected one token per id");
            }

            vocab[entry.Name] = id;
        }

        if (vocab.Count == 0)
        {
            throw new ModelFormatException(source, "model.vocab is empty; expected token → id entries");
        }

        return vocab;
    }

    private static List<string> ReadMerges(string source, JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(source, "model.merges is missing; expected an array of \"left right\" strings or [left, right] pairs");
        }

        var merges = new List<string>(mergesElement.GetArrayLength());
        int index = 0;
        foreach (var merge in mergesElement.EnumerateArray())
        {
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                {
                    throw new ModelFormatException(source, $"model.merges[{index}] is \"{merge.GetString()}\"; expected \"left right\"");
                }

                (left, right) = (parts[0], parts[1]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                (left, right) = (merge[0].GetString()!, merge[1].GetString()!);

                // Microsoft.ML.Tokenizers takes merges as space-separated strings; byte-level tokens never
                // contain a space (it is 'Ġ'), so one that does means the file is not byte-level.
                if (left.Length == 0 || right.Length == 0 || left.Contains(' ') || right.Contains(' '))
                {
                    throw new ModelFormatException(source, $"model.merges[{index}] is [\"{left}\", \"{right}\"]; expected two non-empty byte-level tokens without spaces");
                }
            }
            else
            {
                throw new ModelFormatException(source, $"model.merges[{index}] is {merge}; expected \"left right\" or [left, right]");
            }

            merges.Add(left + " " + right);
            index++;
        }

        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(string source, JsonElement root)
    {
        var added = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return added;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(source, "added_tokens is not an array; expected [{id, content, special}, ...]");
        }

        int index = 0;
        foreach (var token in list.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Object
                || !token.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int idValue) || idValue < 0
                || !token.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String || content.GetString()!.Length == 0)
            {
                throw new ModelFormatException(source, $"added_tokens[{index}] is {token}; expected an object with a non-negative integer id and a non-empty content");
            }

            bool special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            added.Add(new AddedToken(idValue, content.GetString()!, special));
            index++;
        }

        return added;
    }

    private static List<Regex> ReadPreTokenizer(string source, JsonElement root)
    {
        var pre = RequireObject(source, root, "pre_tokenizer", "pre_tokenizer");
        var steps = TypeOf(source, pre, "pre_tokenizer") == "Sequence"
            ? ArrayOf(source, pre, "pretokenizers", "pre_tokenizer.pretokenizers").Select((p, i) => (p, $"pre_tokenizer.pretokenizers[{i}]")).ToList()
            : [(pre, "pre_tokenizer")];

        var splits = new List<Regex>();
        foreach (var (step, path) in steps)
        {
            switch (TypeOf(source, step, path))
            {
                case "ByteLevel":
                    if (step.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind == JsonValueKind.True)
                    {
                        throw new ModelFormatException(source, $"{path}.add_prefix_space is true; expected false (Llama 3, Qwen2 and GPT-2 use false)");
                    }

                    // use_regex defaults to true in the tokenizers crate.
                    if (!step.TryGetProperty("use_regex", out var useRegex) || useRegex.ValueKind != JsonValueKind.False)
                    {
                        splits.Add(NewRegex(HfPreTokenizer.Gpt2Pattern));
                    }

                    break;

                case "Split":
                    splits.Add(ReadSplit(source, step, path));
                    break;

                default:
                    throw new ModelFormatException(source, $"{path}.type is \"{TypeOf(source, step, path)}\"; expected ByteLevel, Split or a Sequence of them");
            }
        }

        return splits;
    }

    private static Regex ReadSplit(string source, JsonElement split, string path)
    {
        string behavior = split.TryGetProperty("behavior", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "";
        if (behavior != "Isolated")
        {
            throw new ModelFormatException(source, $"{path}.behavior is \"{behavior}\"; expected \"Isolated\"");
        }

        if (split.TryGetProperty("invert", out var invert) && invert.ValueKind == JsonValueKind.True)
        {
            throw new ModelFormatException(source, $"{path}.invert is true; expected false");
        }

        var pattern = RequireObject(source, split, "pattern", path + ".pattern");
        try
        {
            if (pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
            {
                return NewRegex(regex.GetString()!);
            }

            if (pattern.TryGetProperty("String", out var literal) && literal.ValueKind == JsonValueKind.String)
            {
                return NewRegex(Regex.Escape(literal.GetString()!));
            }
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(source, $"{path}.pattern is not a regex .NET can compile; expected an Oniguruma pattern that .NET also accepts", e);
        }

        throw new ModelFormatException(source, $"{path}.pattern is {pattern}; expected {{\"Regex\": ...}} or {{\"String\": ...}}");
    }

    private static Normalizer? ReadNormalizer(string source, JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string type = TypeOf(source, normalizer, "normalizer");
        return type switch
        {
            "NFC" => NfcNormalizer.Instance,
            "Sequence" when normalizer.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() == 0 => null,
            _ => throw new ModelFormatException(source, $"normalizer.type is \"{type}\"; expected null or NFC"),
        };
    }

    /// <summary>
    /// The special tokens a TemplateProcessing post_processor wraps a single sequence with. Llama 3 has no
    /// add_bos_token in tokenizer_config.json: its BOS comes only from this template.
    /// </summary>
    private static (string? Bos, string? Eos) ReadTemplate(string source, JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        var template = FindType(post, "TemplateProcessing");
        if (template is not { } t)
        {
            return (null, null);
        }

        var single = ArrayOf(source, t, "single", "post_processor.single");
        string? SpecialAt(JsonElement item) =>
            item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var special)
            && special.ValueKind == JsonValueKind.Object && special.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;

        if (single.Count == 0)
        {
            return (null, null);
        }

        string? bos = SpecialAt(single[0]);
        string? eos = single.Count > 1 ? SpecialAt(single[^1]) : null;
        return (bos, eos);
    }

    private static JsonElement? FindType(JsonElement element, string type)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type)
        {
            return element;
        }

        foreach (var listName in new[] { "processors", "pretokenizers" })
        {
            if (element.TryGetProperty(listName, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var child in list.EnumerateArray())
                {
                    if (child.ValueKind == JsonValueKind.Object && FindType(child, type) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }

    private static bool ContainsType(JsonElement element, string type) => FindType(element, type) is not null;

    private static Regex NewRegex(string pattern) => new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private static JsonElement RequireObject(string source, JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(source, $"{path} is missing or not an object; expected an object");
        }

        return value;
    }

    private static List<JsonElement> ArrayOf(string source, JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(source, $"{path} is missing or not an array; expected an array");
        }

        return value.EnumerateArray().ToList();
    }

    private static string TypeOf(string source, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw new ModelFormatException(source, $"{path}.type is missing; expected a string");
        }

        return type.GetString()!;
    }
}
