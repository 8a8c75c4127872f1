using System.Text.Json;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The API's JSON settings. Field names come from each DTO's attributes; numbers are strict (a string where a number
/// belongs is a type error naming the field, as with OpenAI), and nulls are written, because OpenAI's responses carry
/// <c>"logprobs": null</c> and <c>"param": null</c>.
/// </summary>
internal static class HttpJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General);
}
