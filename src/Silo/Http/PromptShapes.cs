using System.Text.Json;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The prompt shapes /v1/completions accepts, as lm-evaluation-harness sends them: a string, a list of strings, a list
/// of token ids, or a list of token-id lists. A list makes a batch, one choice per prompt.
/// </summary>
internal static class PromptShapes
{
    /// <summary>One prompt of a batch: text, or token ids taken as they are.</summary>
    public sealed record Prompt(string? Text, int[]? Ids);

    public static IReadOnlyList<Prompt> Read(JsonElement? prompt)
    {
        const string expected = "expected a string, a list of strings, a list of token ids or a list of token-id lists";
        if (prompt is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            throw OpenAiException.BadRequest("prompt", $"prompt is missing; {expected}");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return [new Prompt(value.GetString(), null)];
            case JsonValueKind.Array when value.GetArrayLength() == 0:
                throw OpenAiException.BadRequest("prompt", $"prompt is an empty list; {expected}");
            case JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number):
                return [new Prompt(null, Ids(value, "prompt"))];
            case JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                return value.EnumerateArray().Select(e => new Prompt(e.GetString(), null)).ToArray();
            case JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Array):
                return value.EnumerateArray().Select((e, i) => new Prompt(null, Ids(e, $"prompt[{i}]"))).ToArray();
            default:
                throw OpenAiException.BadRequest("prompt", $"prompt is {Describe(value)}; {expected}");
        }
    }

    /// <summary>A JSON list of token ids; <paramref name="field"/> names it in the error.</summary>
    public static int[] Ids(JsonElement list, string field)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiException.BadRequest(field, $"{field} is {Describe(list)}; expected a list of token ids");
        }

        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (var element in list.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out ids[i]) || ids[i] < 0)
            {
                throw OpenAiException.BadRequest(field, $"{field}[{i}] is {element.GetRawText()}; expected a token id (a non-negative integer)");
            }

            i++;
        }

        if (ids.Length == 0)
        {
            throw OpenAiException.BadRequest(field, $"{field} is an empty list; expected at least one token id");
        }

        return ids;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => "a list of mixed or nested values",
        JsonValueKind.Object => "an object",
        _ => value.GetRawText(),
    };
}
