using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace OrleansQuant.Model.Files;

/// <summary>
/// Refuses a parsed JSON document holding a string that is not Unicode (a lone surrogate such as "\ud800"):
/// System.Text.Json accepts it while parsing but throws InvalidOperationException on reading the string, deep inside
/// whichever reader asks first; so do bytes inside a string that are not UTF-8. Only strings with an escape or
/// invalid UTF-8 are decoded, so a tokenizer.json of a hundred thousand tokens costs one vectorized check per string.
/// </summary>
public static class JsonStrings
{
    /// <exception cref="ModelFormatException">naming <paramref name="source"/> and the string's raw text.</exception>
    public static void RequireValid(JsonElement element, string source)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    if (NeedsDecoding(JsonMarshal.GetRawUtf8PropertyName(property)))
                    {
                        Decode(source, () => property.Name, "field name");
                    }

                    RequireValid(property.Value, source);
                }

                break;
            case JsonValueKind.Array:
                foreach (JsonElement item in element.EnumerateArray())
                {
                    RequireValid(item, source);
                }

                break;
            case JsonValueKind.String when NeedsDecoding(JsonMarshal.GetRawUtf8Value(element)):
                Decode(source, () => element.GetString(), "string");
                break;
        }
    }

    // Escapes are resolved only on decoding, and the parser does not check UTF-8 inside strings; plain valid text needs neither.
    private static bool NeedsDecoding(ReadOnlySpan<byte> raw) => raw.Contains((byte)'\\') || !Utf8.IsValid(raw);

    private static void Decode(string source, Func<string?> read, string what)
    {
        try
        {
            read();
        }
        catch (InvalidOperationException ex)
        {
            throw new ModelFormatException(source, $"a JSON {what} is not valid Unicode ({ex.Message}); expected UTF-8 text and valid UTF-16 escapes", ex);
        }
    }
}
