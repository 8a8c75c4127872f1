using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Demo;

/// <summary>
/// A <see cref="DemoModelSpec"/> loaded without files: its config is the spec's, and every tensor is generated on the
/// device that will hold it (<see cref="SyntheticTensorSource"/>), so a layer grain makes only its own layer, on its
/// own device, and the same layer comes out whichever device or process makes it.
/// </summary>
public sealed class SyntheticModel(DemoModelSpec spec) : IModelSource
{
    private readonly SyntheticTensorSource _tensors = new(spec);

    public string Location => SyntheticModels.Prefix + spec.Name;

    public ModelConfig Config => spec.Config;

    public CompressedTensorsConfig? Quantization => null;

    public WeightPrecision Precision { get; init; }

    public OutputHead LoadHead(IComputeDevice device) => OutputHead.Load(Loader(device), Config);

    public DecoderLayerWeights LoadLayer(int layer, IComputeDevice device)
    {
        if ((uint)layer >= (uint)Config.NumHiddenLayers)
        {
            throw new ArgumentOutOfRangeException(
                nameof(layer), layer, $"{Location}: num_hidden_layers is {Config.NumHiddenLayers}; expected a layer in [0, {Config.NumHiddenLayers})");
        }

        return DecoderLayerWeights.Load(Loader(device), Config, layer);
    }

    public void Dispose()
    {
        // Nothing is held between loads: each tensor is made when it is asked for.
    }

    private WeightLoader Loader(IComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new WeightLoader(_tensors, device, Precision);
    }
}
