using Orleans.Concurrency;

namespace OrleansQuant.Contracts;

/// <summary>
/// One decoder layer (key: "model/layer"), pinned to one device of one silo: its weights (FP, then INT8), calibration
/// statistics, the KV cache of every live sequence, and a version number.
/// </summary>
public interface ILayerGrain : IGrainWithStringKey
{
    Task<LayerStatus> Load(LayerLoadRequest request);

    /// <summary>Runs one micro-batch through the layer.</summary>
    Task<ActivationPayload> Forward(LayerStep step);

    /// <summary>Frees the KV cache of finished sequences.</summary>
    Task EndSequences(IReadOnlyList<long> sequences);

    /// <summary>
    /// SmoothQuant + GPTQ from the statistics collected so far. The new weights are held beside the old until
    /// <see cref="CommitQuantization"/> puts them in service or <see cref="DiscardQuantization"/> drops them, so a
    /// model's layers change all together or not at all.
    /// </summary>
    Task<RequantizeResult> Quantize(string recipeYaml);

    /// <summary>Puts the weights built by <see cref="Quantize"/> in service, between two steps; returns the new version.</summary>
    Task<int> CommitQuantization();

    /// <summary>Drops the weights built by <see cref="Quantize"/>; the old ones keep serving.</summary>
    Task DiscardQuantization();

    /// <summary>
    /// Builds new weights with another recipe beside the serving ones, from the kept statistics, while forward passes
    /// go on; swaps them in between two steps. A failure leaves the old weights serving and is kept in the status.
    /// </summary>
    [AlwaysInterleave]
    Task<RequantizeResult> Requantize(string recipeYaml);

    /// <summary>The layer's tensors as a checkpoint stores them (int8 weight + weight_scale for quantized linears).</summary>
    Task<IReadOnlyList<NamedTensor>> ExportTensors();

    [AlwaysInterleave]
    Task<LayerStatus> GetStatus();
}
