using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The body of POST /v1/completions. <see cref="Prompt"/> takes lm-evaluation-harness's four shapes (see
/// <see cref="PromptShapes"/>); <c>echo</c> puts the prompt before the answer, and <c>logprobs</c> (0 to 20) asks for
/// OpenAI's legacy log-probabilities (<see cref="CompletionLogprobs"/>), what lm-eval's loglikelihood tasks read.
/// </summary>
internal sealed record CompletionRequest : SamplingFields
{
    [JsonPropertyName("prompt")] public JsonElement? Prompt { get; init; }

    [JsonPropertyName("echo")] public bool? Echo { get; init; }

    [JsonPropertyName("logprobs")] public int? Logprobs { get; init; }

    /// <summary>max_tokens 0 with echo: score the prompt and generate nothing, as vLLM allows.</summary>
    public bool PromptOnly => Echo == true && MaxTokens == 0;

    /// <summary>Refuses out-of-range values naming the field (<c>logprobs</c> as vLLM caps it); returns the stop strings.</summary>
    public IReadOnlyList<string> CheckCompletion()
    {
        if (Logprobs is < 0 or > GenerationRequest.MaxTopLogProbs)
        {
            throw OpenAiException.BadRequest("logprobs", $"logprobs is {Logprobs}; expected 0 to {GenerationRequest.MaxTopLogProbs} most likely tokens per position");
        }

        if (Stream == true && (Echo == true || Logprobs is not null))
        {
            throw OpenAiException.BadRequest("stream",
                "stream with echo or logprobs is not supported; expected stream false or absent (lm-evaluation-harness asks for logprobs without streaming)");
        }

        if (MaxTokens == 0 && Echo != true)
        {
            throw OpenAiException.BadRequest("max_tokens", "max_tokens is 0 without echo, which would answer nothing; expected at least 1, or 0 with echo true to score the prompt only");
        }

        // max_tokens 0 is a request to score the prompt only, which needs echo; every other count is the shared check's.
        return (PromptOnly ? this with { MaxTokens = null } : this).Check();
    }
}
