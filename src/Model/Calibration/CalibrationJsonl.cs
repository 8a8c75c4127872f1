using System.Text.Json;
using OrleansQuant.ChatTemplates;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Reads a JSONL calibration file: one object per line with <c>"text": string</c> or
/// <c>"messages": [{"role": string, "content": string}, ...]</c>. Every line is validated up front, so a bad line
/// fails the run before any GPU time is spent, even if the shuffle would not have picked it.
/// </summary>
internal static class CalibrationJsonl
{
    public static List<CalibrationRecord> Read(string path)
    {
        var records = new List<CalibrationRecord>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            records.Add(Parse(path, lineNumber, line));
        }

        return records;
    }

    private static CalibrationRecord Parse(string path, int lineNumber, string line)
    {
        string source = $"{path}:{lineNumber}";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(source, $"is not valid JSON ({e.Message}); expected one JSON object per line", e);
        }

        using (document)
        {
            Files.JsonStrings.RequireValid(document.RootElement, source);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(source, $"is a JSON {Kind(root)}; expected an object with \"text\" or \"messages\"");
            }

            if (root.TryGetProperty("text", out var text))
            {
                return text.ValueKind == JsonValueKind.String
                    ? new CalibrationRecord(lineNumber, text.GetString()!, null)
                    : throw new ModelFormatException(source, $"field \"text\" is a JSON {Kind(text)}; expected a string");
            }

            if (root.TryGetProperty("messages", out var messages))
            {
                return new CalibrationRecord(lineNumber, null, ReadMessages(source, messages));
            }

            throw new ModelFormatException(source, "has neither \"text\" nor \"messages\"; expected {\"text\": string} or {\"messages\": [{\"role\": string, \"content\": string}, ...]}");
        }
    }

    private static List<ChatMessage> ReadMessages(string source, JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(source, $"field \"messages\" is a JSON {Kind(messages)}; expected an array of {{\"role\", \"content\"}} objects");
        }

        var result = new List<ChatMessage>();
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(source, $"messages[{index}] is a JSON {Kind(message)}; expected an object with \"role\" and \"content\" strings");
            }

            result.Add(new ChatMessage(ReadString(source, message, index, "role"), ReadString(source, message, index, "content")));
            index++;
        }

        return result;
    }

    private static string ReadString(string source, JsonElement message, int index, string field)
    {
        if (!message.TryGetProperty(field, out var value))
        {
            throw new ModelFormatException(source, $"messages[{index}] has no \"{field}\"; expected a string");
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new ModelFormatException(source, $"messages[{index}].{field} is a JSON {Kind(value)}; expected a string");
    }

    private static string Kind(JsonElement element) => JsonKinds.Describe(element.ValueKind);
}
