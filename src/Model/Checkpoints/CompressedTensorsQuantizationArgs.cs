// Source: compressed-tensors QuantizationArgs (quantization/quant_args.py), the per-tensor part of a config group.
using System.Text.Json.Nodes;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// How one kind of tensor (weights or input activations) of a compressed-tensors config group is quantized.
/// Only the fields this runtime's kernels depend on are modelled; the rest are written with llm-compressor's values.
/// </summary>
public sealed record CompressedTensorsQuantizationArgs(
    int NumBits,
    string Type,
    bool Symmetric,
    string Strategy,
    bool Dynamic,
    string? Observer)
{
    /// <summary>int8 symmetric per-output-channel weights with scales fixed at quantization time (min-max observer).</summary>
    public static CompressedTensorsQuantizationArgs Int8ChannelWeights { get; } =
        new(NumBits: 8, Type: "int", Symmetric: true, Strategy: "channel", Dynamic: false, Observer: "minmax");

    /// <summary>
    /// int8 symmetric per-token activations whose scales are computed at run time; with nothing to calibrate,
    /// llm-compressor records no observer.
    /// </summary>
    public static CompressedTensorsQuantizationArgs Int8TokenDynamicActivations { get; } =
        new(NumBits: 8, Type: "int", Symmetric: true, Strategy: "token", Dynamic: true, Observer: null);

    /// <summary>The QuantizationArgs object as compressed-tensors serializes it (keys sorted, as transformers writes config.json).</summary>
    public JsonObject ToJson() => new()
    {
        ["actorder"] = null,
        ["block_structure"] = null,
        ["dynamic"] = Dynamic,
        ["group_size"] = null,
        ["num_bits"] = NumBits,
        ["observer"] = Observer,
        ["observer_kwargs"] = new JsonObject(),
        ["strategy"] = Strategy,
        ["symmetric"] = Symmetric,
        ["type"] = Type,
    };
}
