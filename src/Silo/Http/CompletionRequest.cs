using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The body of POST /v1/completions. <see cref="Prompt"/> takes lm-evaluation-harness's four shapes (see
/// <see cref="PromptShapes"/>); <c>echo</c> and <c>logprobs</c> are read only to be refused until they are supported.
/// </summary>
internal sealed record CompletionRequest : SamplingFields
{
    [JsonPropertyName("prompt")] public JsonElement? Prompt { get; init; }

    [JsonPropertyName("echo")] public bool? Echo { get; init; }

    [JsonPropertyName("logprobs")] public int? Logprobs { get; init; }
}
