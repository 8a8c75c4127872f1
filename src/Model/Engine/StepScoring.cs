namespace OrleansQuant.Model.Engine;

/// <summary>
/// What a step's head scores besides sampling, for logprobs: with <see cref="AtSampledRows"/>, the <see cref="Top"/> most
/// likely tokens at every sampled row (and the sampled token's log-probability beside them); and at each of
/// <see cref="Rows"/>, the log-probability of <see cref="Targets"/>[i] (the prompt token that follows that row) with its
/// top ones. <see cref="Top"/> ≥ 1: the head finds at least the most likely token wherever it scores.
/// </summary>
public sealed record StepScoring(int Top, bool AtSampledRows, int[] Rows, int[] Targets)
{
    public bool IsEmpty => !AtSampledRows && Rows.Length == 0;
}
