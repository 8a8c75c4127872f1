namespace OrleansQuant.Gpu;

/// <summary>Element types that live on a device. Checkpoint dtypes (F16, BF16) are widened on upload.</summary>
public enum TensorType
{
    Float32,
    Int8,
    Int32,

    /// <summary>Calibration statistics (GPTQ's Σ xxᵀ), which need double's range and precision.</summary>
    Float64,
}

public static class TensorTypeExtensions
{
    public static int ElementSize(this TensorType type) => type switch
    {
        TensorType.Float32 => 4,
        TensorType.Int8 => 1,
        TensorType.Int32 => 4,
        TensorType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor type"),
    };

    public static TensorType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? TensorType.Float32
        : typeof(T) == typeof(sbyte) ? TensorType.Int8
        : typeof(T) == typeof(int) ? TensorType.Int32
        : typeof(T) == typeof(double) ? TensorType.Float64
        : throw new NotSupportedException($"no device tensor type for {typeof(T).Name}; expected float, sbyte, int or double");
}
