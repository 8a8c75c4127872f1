namespace OrleansQuant.Model.Generation;

/// <summary>One prompt to continue. Generation stops at any of <paramref name="StopIds"/> or after <paramref name="MaxNewTokens"/>.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptIds, int MaxNewTokens, SamplingOptions Sampling, IReadOnlyList<int> StopIds)
{
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

        Sampling.Validate();
    }
}
