using System.Diagnostics.CodeAnalysis;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>Element sizes and the dtype spellings used in safetensors headers.</summary>
public static class TensorDTypeExtensions
{
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => 4,
        TensorDType.F16 => 2,
        TensorDType.BF16 => 2,
        TensorDType.I8 => 1,
        TensorDType.I32 => 4,
        TensorDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a TensorDType"),
    };

    /// <summary>The spelling in a safetensors header's "dtype" field.</summary>
    public static string ToSafeTensorsName(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.F16 => "F16",
        TensorDType.BF16 => "BF16",
        TensorDType.I8 => "I8",
        TensorDType.I32 => "I32",
        TensorDType.I64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a TensorDType"),
    };

    public static bool IsFloatingPoint(this TensorDType dtype) =>
        dtype is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16;

    /// <summary>
    /// Exact, case-sensitive match: the safetensors spec spells dtypes in upper case, and a file that
    /// spells them otherwise was not written by a conforming writer.
    /// </summary>
    public static bool TryParseSafeTensorsName(string name, [NotNullWhen(true)] out TensorDType? dtype)
    {
        dtype = name switch
        {
            "F32" => TensorDType.F32,
            "F16" => TensorDType.F16,
            "BF16" => TensorDType.BF16,
            "I8" => TensorDType.I8,
            "I32" => TensorDType.I32,
            "I64" => TensorDType.I64,
            _ => null,
        };
        return dtype is not null;
    }
}
