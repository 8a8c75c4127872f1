using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model;

/// <summary>
/// A model every loader can load from — the single process, the coordinator's head, each layer grain its own layer —
/// without knowing whether it is a checkpoint directory (<see cref="ModelCheckpoint"/>) or generated on the device
/// that holds it (<see cref="Demo.SyntheticModel"/>). Opened by <see cref="ModelSource.Open"/>.
/// </summary>
public interface IModelSource : IDisposable
{
    /// <summary>What the model was opened from: a directory, or a synthetic model's name such as <c>synthetic:tiny</c>.</summary>
    string Location { get; }

    ModelConfig Config { get; }

    /// <summary>The compressed-tensors quantization_config of a quantized checkpoint; null for full precision.</summary>
    CompressedTensorsConfig? Quantization { get; }

    /// <summary>What full-precision weights are stored as on the devices they load onto.</summary>
    WeightPrecision Precision { get; }

    /// <summary>Embedding, final norm and (untied) lm_head, at full precision.</summary>
    /// <remarks>The KV cache of a layer on a device is stored as its weights are (<see cref="WeightPrecisions.StorageOn(WeightPrecision, IComputeDevice)"/>).</remarks>
    OutputHead LoadHead(IComputeDevice device);

    /// <summary>One decoder layer's tensors on <paramref name="device"/>.</summary>
    DecoderLayerWeights LoadLayer(int layer, IComputeDevice device);
}
