using System.Text.Json;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// The fields of a Hugging Face tokenizer_config.json that change how ids are produced. A field that is
/// absent stays null so that the tokenizer's own defaults (SentencePiece: BOS on; tokenizer.json: its
/// post_processor) apply; an explicit JSON null for a token means "this model has none" (Qwen2's bos_token).
/// </summary>
internal sealed class TokenizerConfig
{
    public bool? AddBosToken { get; private init; }

    public bool? AddEosToken { get; private init; }

    public bool HasBosToken { get; private init; }

    public string? BosToken { get; private init; }

    public bool HasEosToken { get; private init; }

    public string? EosToken { get; private init; }

    public string? ChatTemplate { get; private init; }

    public static TokenizerConfig Empty { get; } = new();

    public static TokenizerConfig Read(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(Files.InputFile.ReadAllBytes(path, Files.InputLimits.TokenizerConfig, "a tokenizer_config.json"), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"is not valid JSON ({e.Message}); expected an object", e);
        }

        using (document)
        {
            Files.JsonStrings.RequireValid(document.RootElement, path);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(path, "expected a JSON object at the top level");
            }

            var (hasBos, bos) = ReadToken(path, root, "bos_token");
            var (hasEos, eos) = ReadToken(path, root, "eos_token");
            return new TokenizerConfig
            {
                AddBosToken = ReadBool(path, root, "add_bos_token"),
                AddEosToken = ReadBool(path, root, "add_eos_token"),
                HasBosToken = hasBos,
                BosToken = bos,
                HasEosToken = hasEos,
                EosToken = eos,
                ChatTemplate = ReadChatTemplate(path, root),
            };
        }
    }

    private static bool? ReadBool(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelFormatException(path, $"{name} is {value}; expected true or false"),
        };
    }

    /// <summary>Special tokens are written either as a string or as an AddedToken object {"content": ...}.</summary>
    private static (bool Present, string? Content) ReadToken(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return (false, null);
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return (true, null);
            case JsonValueKind.String:
                return (true, value.GetString());
            case JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String:
                return (true, content.GetString());
            default:
                throw new ModelFormatException(path, $"{name} is {value}; expected a string, {{\"content\": string}} or null");
        }
    }

    /// <summary>Some models list several named templates; the one named "default" is the chat template.</summary>
    private static string? ReadChatTemplate(string path, JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in value.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "default"
                    && entry.TryGetProperty("template", out var template) && template.ValueKind == JsonValueKind.String)
                {
                    return template.GetString();
                }
            }
        }

        throw new ModelFormatException(path, "chat_template is neither a string nor a list with a {\"name\": \"default\", \"template\": string} entry");
    }
}
