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

    /// <summary>SmoothQuant + GPTQ from the statistics collected so far; the new weights replace the old.</summary>
    Task<RequantizeResult> Quantize(string recipeYaml);

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
