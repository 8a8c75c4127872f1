using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>The assistant's whole message in a chat.completion.</summary>
internal sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatDelta Message,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}

/// <summary>A piece of the assistant's message in a chat.completion.chunk.</summary>
internal sealed record ChatChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChatDelta Delta,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}

/// <summary>
/// A message or a streamed delta: the first chunk carries the role, the next ones content, the last neither (absent
/// fields are left out, as OpenAI does, not written as null).
/// </summary>
internal sealed record ChatDelta(
    [property: JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
