using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Files;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// A Hugging Face checkpoint directory opened for loading: config.json parsed and its compressed-tensors
/// quantization_config checked once, here, so every loader (single process, layer grain, coordinator head) refuses a
/// checkpoint this runtime would serve wrongly before any weight is read. Tensors are memory-mapped shard by shard on
/// first use, so a layer grain that loads only its own layer maps only the shard(s) holding it.
/// Safe for concurrent loads; tensors loaded onto a device are copies, valid after <see cref="Dispose"/>.
/// </summary>
public sealed class ModelCheckpoint : IModelSource
{
    private const string ConfigFile = "config.json";

    private readonly CheckpointReader _tensors;

    private ModelCheckpoint(string directory, ModelConfig config, CompressedTensorsConfig? quantization, CheckpointReader tensors, WeightPrecision precision)
    {
        Precision = precision;
        Directory = directory;
        Config = config;
        Quantization = quantization;
        _tensors = tensors;
    }

    public string Directory { get; }

    string IModelSource.Location => Directory;

    public ModelConfig Config { get; }

    public WeightPrecision Precision { get; }

    /// <summary>The checkpoint's compressed-tensors quantization_config; null for an unquantized checkpoint.</summary>
    public CompressedTensorsConfig? Quantization { get; }

    /// <summary>Reads and validates config.json and its quantization_config, then opens the tensors without reading any.</summary>
    public static ModelCheckpoint Open(string directory, WeightPrecision precision = WeightPrecision.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string configPath = Path.Combine(directory, ConfigFile);
        string text = InputFile.ReadAllText(configPath, InputLimits.ConfigJson, "a Hugging Face config.json");

        // The same text feeds both readers, so the config and the quantization scheme cannot come from different saves.
        var config = ModelConfig.Parse(text, configPath);
        var quantization = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) is JsonObject json
            ? CompressedTensorsConfig.FromConfigJson(json, configPath)
            : null;
        return new ModelCheckpoint(directory, config, quantization, CheckpointReader.Open(directory), precision);
    }

    /// <summary>Embedding, final norm and (untied) lm_head, at full precision.</summary>
    public OutputHead LoadHead(IComputeDevice device) => OutputHead.Load(Loader(device), Config);

    /// <summary>One decoder layer's tensors: int8 linears where the checkpoint stores a weight_scale, float elsewhere.</summary>
    public DecoderLayerWeights LoadLayer(int layer, IComputeDevice device)
    {
        if ((uint)layer >= (uint)Config.NumHiddenLayers)
        {
            throw new ArgumentOutOfRangeException(
                nameof(layer), layer, $"{Path.Combine(Directory, ConfigFile)}: num_hidden_layers is {Config.NumHiddenLayers}; expected a layer in [0, {Config.NumHiddenLayers})");
        }

        return DecoderLayerWeights.Load(Loader(device), Config, layer);
    }

    public void Dispose() => _tensors.Dispose();

    private WeightLoader Loader(IComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new WeightLoader(_tensors, device, Precision);
    }
}
