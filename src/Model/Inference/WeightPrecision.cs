using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// What full-precision weights (linears, embedding, lm_head), activations and the KV cache are stored as on a device —
/// vLLM's <c>--dtype</c>. Norm gains, biases, scales and logits stay float32 whatever this says.
/// </summary>
public enum WeightPrecision
{
    /// <summary>BFloat16 on a GPU (tensor-core GEMMs, half the memory: what the checkpoints hold), Float32 on a CPU device.</summary>
    Auto,
    Float32,
    BFloat16,
}

public static class WeightPrecisions
{
    /// <summary>The names <see cref="Parse"/> takes, as the CLI and <c>LoadModelRequest.DType</c> spell them.</summary>
    public const string Names = "auto, float32 (fp32) or bfloat16 (bf16)";

    /// <summary>The tensor type this precision stores full-precision weights as on <paramref name="device"/>.</summary>
    public static TensorType StorageOn(this WeightPrecision precision, IComputeDevice device) => precision.StorageOn(device.Info.Kind);

    /// <summary>The tensor type this precision stores full-precision weights as on a device of <paramref name="kind"/>.</summary>
    public static TensorType StorageOn(this WeightPrecision precision, DeviceKind kind) => precision switch
    {
        WeightPrecision.Float32 => TensorType.Float32,
        WeightPrecision.BFloat16 => TensorType.BFloat16,
        _ => kind == DeviceKind.Cpu ? TensorType.Float32 : TensorType.BFloat16,
    };

    /// <summary><c>auto</c>, <c>float32</c>/<c>fp32</c>/<c>float</c> or <c>bfloat16</c>/<c>bf16</c>, any case; null or empty is auto.</summary>
    public static WeightPrecision Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => WeightPrecision.Auto,
        "float32" or "fp32" or "float" => WeightPrecision.Float32,
        "bfloat16" or "bf16" => WeightPrecision.BFloat16,
        _ => throw new ArgumentException($"dtype '{name}' is not known; expected {Names}", nameof(name)),
    };

    public static string Name(this WeightPrecision precision) => precision.ToString().ToLowerInvariant();
}
