namespace OrleansQuant.Gpu;

/// <summary>
/// Element types that live on a device. Activations, norms, scales and biases are Float32; full-precision linear
/// weights and embeddings are Float32 or BFloat16 (a model's storage type, see <c>WeightPrecision</c>), and an F16
/// checkpoint is widened on upload.
/// </summary>
public enum TensorType
{
    Float32,
    Int8,
    Int32,

    /// <summary>Calibration statistics (GPTQ's Σ xxᵀ), which need double's range and precision.</summary>
    Float64,

    /// <summary>Full-precision weights as bf16 checkpoints hold them (<see cref="Gpu.BFloat16"/>): half the bytes of Float32.</summary>
    BFloat16,
}

public static class TensorTypeExtensions
{
    public static int ElementSize(this TensorType type) => type switch
    {
        TensorType.Float32 => 4,
        TensorType.Int8 => 1,
        TensorType.Int32 => 4,
        TensorType.Float64 => 8,
        TensorType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor type"),
    };

    public static TensorType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? TensorType.Float32
        : typeof(T) == typeof(sbyte) ? TensorType.Int8
        : typeof(T) == typeof(int) ? TensorType.Int32
        : typeof(T) == typeof(double) ? TensorType.Float64
        : typeof(T) == typeof(BFloat16) ? TensorType.BFloat16
        : throw new NotSupportedException($"no device tensor type for {typeof(T).Name}; expected float, sbyte, int, double or BFloat16");
}
