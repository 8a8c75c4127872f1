using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
internal sealed record OpenAiError([property: JsonPropertyName("error")] OpenAiErrorBody Error);

internal sealed record OpenAiErrorBody(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
