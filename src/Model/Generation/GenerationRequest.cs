namespace OrleansQuant.Model.Generation;

/// <summary>
/// One prompt to continue. Generation stops at any of <paramref name="StopIds"/> or after <paramref name="MaxNewTokens"/>.
/// <paramref name="TopLogProbs"/> most likely tokens are reported with each generated token (0: none); with
/// <paramref name="PromptLogProbs"/> every prompt token from the second on is scored too — log P(prompt[p] | prompt[&lt;p])
/// and the top ones — as a log-likelihood evaluation needs.
/// </summary>
public sealed record GenerationRequest(
    IReadOnlyList<int> PromptIds, int MaxNewTokens, SamplingOptions Sampling, IReadOnlyList<int> StopIds, int TopLogProbs = 0, bool PromptLogProbs = false)
{
    /// <summary>The most top tokens a position reports, vLLM's limit for OpenAI's <c>logprobs</c>.</summary>
    public const int MaxTopLogProbs = 20;

    public void Validate()
    {
        if (PromptIds.Count == 0)
        {
            throw new ArgumentException("the prompt has no tokens; expected at least one (a BOS token will do)", nameof(PromptIds));
        }

        if (MaxNewTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "max_tokens must be ≥ 1");
        }

        if (TopLogProbs is < 0 or > MaxTopLogProbs)
        {
            throw new ArgumentOutOfRangeException(nameof(TopLogProbs), TopLogProbs, $"logprobs must be 0 to {MaxTopLogProbs} top tokens per position");
        }

        Sampling.Validate();
    }
}
