using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// A /v1/completions answer, and with <c>object: "text_completion"</c> each streamed chunk too (OpenAI's legacy
/// completions stream the same shape, a piece of text per choice). <see cref="Usage"/> is null in streamed chunks.
/// </summary>
internal sealed record CompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<CompletionChoice> Choices,
    [property: JsonPropertyName("usage")] Usage? Usage)
{
    [JsonPropertyName("object")] public string Object => "text_completion";
}

internal sealed record CompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}
