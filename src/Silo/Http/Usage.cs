using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>Token counts of a request: the prompts' ids as the model ran them, and every token generated (EOS included).</summary>
internal sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens)
{
    [JsonPropertyName("total_tokens")] public int TotalTokens => PromptTokens + CompletionTokens;
}
