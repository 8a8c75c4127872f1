using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>Token counts of a request: the prompts' ids as the model ran them, and every token generated (EOS included).</summary>
internal sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens)
{
    [JsonPropertyName("total_tokens")] public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>
    /// The usage of a request: its generations' counts summed (a batch has one per prompt), each prompt counted once
    /// however many choices (<c>n</c>) it had, as OpenAI and vLLM count them; outcomes come prompt by prompt, n each.
    /// </summary>
    public static Usage Of(IReadOnlyList<GenerationOutcome> outcomes, int choices = 1) =>
        outcomes.Select((o, i) => (o, i)).Aggregate(new Usage(0, 0), (sum, x) =>
            new Usage(sum.PromptTokens + (x.i % choices == 0 ? x.o.PromptTokens : 0), sum.CompletionTokens + x.o.CompletionTokens));
}
