using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// A model's decoder layers behind a transport — <see cref="LocalLayerPipeline"/> in one process, layer grains across
/// a cluster — so that calibration, quantization and generation are written once (<see cref="QuantizationEngine"/>,
/// <see cref="GenerationStep"/>) and run the same over both.
/// </summary>
public interface ILayerPipeline
{
    ModelConfig Config { get; }

    int LayerCount { get; }

    ILayerRunner Layer(int index);

    /// <summary>The residual stream at layer 0 for <paramref name="tokens"/>.</summary>
    Task<Hidden> Embed(int[] tokens, CancellationToken cancellation);

    /// <summary>Runs layers <c>[first, last]</c> over <paramref name="input"/>, which is left as it was; the caller disposes both.</summary>
    Task<Hidden> Forward(Hidden input, PipelineStep step, int first, int last, CancellationToken cancellation);

    /// <summary>
    /// Embeds <paramref name="tokens"/>, runs every layer, and samples one token from each of <paramref name="rows"/> with
    /// the matching <paramref name="sampling"/> row on the head's device (<see cref="HeadStep"/>), and scores what
    /// <paramref name="scoring"/> asks (null: nothing); only the tokens and log-probabilities come back, never logits.
    /// </summary>
    Task<StepSamples> Sample(int[] tokens, PipelineStep step, int[] rows, SamplingRow[] sampling, StepScoring? scoring, CancellationToken cancellation);

    /// <summary>Frees finished sequences' KV caches in every layer.</summary>
    Task EndSequences(IReadOnlyList<long> sequences);
}

/// <summary>
/// The control side of one decoder layer, wherever it lives: quantization builds new weights beside the serving ones
/// (collect → compute), which are then committed (apply) or discarded — so a model changes all at once or not at all.
/// </summary>
public interface ILayerRunner
{
    int Index { get; }

    /// <summary>Forgets statistics from an earlier pass; the next observed steps start a fresh collection.</summary>
    Task BeginCalibration();

    /// <summary>SmoothQuant + GPTQ/RTN from the collected statistics; holds the new weights until commit or discard.</summary>
    Task<Quantization.LayerQuantizationReport> Build(Recipes.QuantizationRecipe recipe, CancellationToken cancellation);

    /// <summary>Puts the built weights in service between two steps; returns the layer's new version.</summary>
    Task<int> Commit();

    /// <summary>Drops built weights, if any; the serving ones stay.</summary>
    Task Discard();
}
