using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Calibration text drawn from the full-precision model itself (`--calibration self`), for models that come without
/// data: each sample starts at BOS and continues by sampling at temperature 1, so the activations seen are the ones
/// the model produces on its own distribution (the data-free idea of Liu et al. 2023, LLM-QAT §2.1).
/// </summary>
public static class SelfCalibration
{
    /// <summary>
    /// Sample i continues the BOS token for <c>tokens − 1</c> steps at temperature 1 with seed <c>seed + i</c>, never
    /// stopping early. Whoever draws the samples (this process or the cluster) starts from these requests, so both
    /// draw the same text.
    /// </summary>
    public static IReadOnlyList<GenerationRequest> Requests(ModelConfig config, int samples, int tokens, int seed)
    {
        if (samples < 1 || tokens < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(samples), $"self calibration needs ≥ 1 sample of ≥ 2 tokens; got {samples} × {tokens}");
        }

        int start = config.BosTokenId ?? 0;
        return Enumerable.Range(0, samples)
            .Select(i => new GenerationRequest([start], tokens - 1, new SamplingOptions(Temperature: 1f, Seed: seed + i), StopIds: []))
            .ToArray();
    }

    public static IReadOnlyList<int[]> Generate(CausalLanguageModel model, int samples, int tokens, int seed)
    {
        var requests = Requests(model.Config, samples, tokens, seed);
        var generator = new Generator(model);
        var results = new List<int[]>(samples);

        // Batches of 32 sequences: one decode step then fills the matrix kernels without holding every cache at once.
        foreach (var batch in requests.Chunk(32))
        {
            results.AddRange(generator.Generate(batch).Select(r => (int[])[.. r.PromptIds, .. r.GeneratedIds]));
        }

        return results;
    }
}
