using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>One streamed piece of a chat completion (<c>object: "chat.completion.chunk"</c>).</summary>
internal sealed record ChatCompletionChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonPropertyName("usage")] Usage? Usage)
{
    [JsonPropertyName("object")] public string Object => "chat.completion.chunk";
}

internal sealed record ChatChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChatDelta Delta,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}
