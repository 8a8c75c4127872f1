using OrleansQuant.Gpu;
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

    /// <summary>The most samples a cluster draws at once, however large its KV budget.</summary>
    public const int MaxWave = 128;

    /// <summary>
    /// How many samples of <paramref name="tokens"/> tokens a cluster draws at once: as many as fit in each layer's
    /// KV-cache budget at full length (every layer holds every sequence of a wave), between 1 and <see cref="MaxWave"/>.
    /// Wider decode steps are where sampling a large model saves time: 64 sequences of 2048 tokens at Llama-3-8B's
    /// shapes in the default 1 GiB (a fixed 32 before).
    /// </summary>
    public static int Wave(ModelConfig config, int tokens, long kvBudgetBytes, TensorType kvCacheType = TensorType.Float32) =>
        (int)Math.Clamp(kvBudgetBytes / KvCacheSize.Bytes(tokens, config.NumKeyValueHeads * config.HeadDim, kvCacheType), 1, MaxWave);

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
