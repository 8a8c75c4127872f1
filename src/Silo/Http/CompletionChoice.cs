using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// One prompt's text in a /v1/completions answer or chunk; <c>finish_reason</c> is null until it ends; <c>logprobs</c>
/// null unless the request asked for them.
/// </summary>
internal sealed record CompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("finish_reason")] string? FinishReason,
    [property: JsonPropertyName("logprobs")] CompletionLogprobs? Logprobs = null);
