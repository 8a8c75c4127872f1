using System.Numerics;
using System.Runtime.InteropServices;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Finds the first NaN or infinity in stored floats without converting them: a float is non-finite exactly when its
/// exponent bits are all ones, so F32, F16 and BF16 are each one masked compare per element, done a SIMD vector at a
/// time. One weight poisoned this way turns every later activation into NaN and every sampled id into 0.
/// </summary>
public static class NonFiniteScan
{
    private const uint F32Exponent = 0x7F80_0000;
    private const ushort F16Exponent = 0x7C00;
    private const ushort BF16Exponent = 0x7F80;

    /// <summary>Index of the first non-finite element of little-endian <paramref name="dtype"/> bytes; -1 when all are finite.</summary>
    public static int IndexOf(TensorDType dtype, ReadOnlySpan<byte> bytes) => dtype switch
    {
        TensorDType.F32 => IndexOfAllOnes(MemoryMarshal.Cast<byte, uint>(bytes), F32Exponent),
        TensorDType.F16 => IndexOfAllOnes(MemoryMarshal.Cast<byte, ushort>(bytes), F16Exponent),
        TensorDType.BF16 => IndexOfAllOnes(MemoryMarshal.Cast<byte, ushort>(bytes), BF16Exponent),
        _ => -1,
    };

    /// <summary>Index of the first NaN or infinity in <paramref name="values"/>; -1 when all are finite.</summary>
    public static int IndexOf(ReadOnlySpan<float> values) => IndexOfAllOnes(MemoryMarshal.Cast<float, uint>(values), F32Exponent);

    /// <summary>"NaN", "+Inf" or "-Inf": how an error names the value found.</summary>
    public static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";

    private static int IndexOfAllOnes<T>(ReadOnlySpan<T> bits, T mask)
        where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<T>.Count)
        {
            var vectorMask = new Vector<T>(mask);
            ReadOnlySpan<Vector<T>> vectors = MemoryMarshal.Cast<T, Vector<T>>(bits);
            while (i < vectors.Length && !Vector.EqualsAny(vectors[i] & vectorMask, vectorMask))
            {
                i++;
            }

            // The scalar loop below finds the element within the vector that matched, or scans the tail.
            i *= Vector<T>.Count;
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & mask) == mask)
            {
                return i;
            }
        }

        return -1;
    }
}
