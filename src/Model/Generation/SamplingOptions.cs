namespace OrleansQuant.Model.Generation;

/// <summary>
/// How the next token is chosen, with the meanings of vLLM's <c>SamplingParams</c>: temperature 0 is greedy;
/// top-k 0 and top-p 1 disable those filters; the same seed gives the same tokens. <see cref="SeedOffset"/> continues a
/// seeded generation: a request for the rest of one that delivered <c>k</c> tokens (its prompt followed by them) passes
/// <c>k</c>, and draws what the uninterrupted request would have drawn from its token <c>k</c> on.
/// </summary>
public sealed record SamplingOptions(float Temperature = 0f, int TopK = 0, float TopP = 1f, int? Seed = null, int SeedOffset = 0)
{
    public static SamplingOptions Greedy { get; } = new();

    public bool IsGreedy => Temperature == 0f;

    /// <summary>Throws with the offending field named when a value is out of range.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be a finite number ≥ 0 (0 = greedy)");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top_k must be ≥ 0 (0 = no limit)");
        }

        if (!(TopP > 0f && TopP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top_p must be in (0, 1]");
        }

        if (SeedOffset < 0 || (SeedOffset > 0 && Seed is null))
        {
            throw new ArgumentOutOfRangeException(nameof(SeedOffset), SeedOffset,
                "seed_offset must be ≥ 0, and above 0 only with a seed (the tokens of the seeded generation a request continues)");
        }
    }
}
