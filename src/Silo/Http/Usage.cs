using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>Token counts of a request: the prompts' ids as the model ran them, and every token generated (EOS included).</summary>
internal sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens)
{
    [JsonPropertyName("total_tokens")] public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The usage of a request: its generations' counts summed (a batch has one per prompt).</summary>
    public static Usage Of(IEnumerable<GenerationOutcome> outcomes) =>
        outcomes.Aggregate(new Usage(0, 0), (sum, o) => new Usage(sum.PromptTokens + o.PromptTokens, sum.CompletionTokens + o.CompletionTokens));
}
