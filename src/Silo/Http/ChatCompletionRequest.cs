using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>The body of POST /v1/chat/completions. OpenAI's newer clients send <c>max_completion_tokens</c> for max_tokens.</summary>
internal sealed record ChatCompletionRequest : SamplingFields
{
    [JsonPropertyName("messages")] public List<ChatMessageDto>? Messages { get; init; }

    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }

    [JsonPropertyName("logprobs")] public bool? Logprobs { get; init; }
}

/// <summary>One message: <c>content</c> is a string or a list of <c>{"type": "text", "text": ...}</c> parts.</summary>
internal sealed record ChatMessageDto(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("content")] JsonElement? Content);
