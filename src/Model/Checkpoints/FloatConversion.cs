using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// F16/BF16 ⇄ F32 conversions with the rounding PyTorch uses (round to nearest, ties to even),
/// so that weights written here are bit-identical to <c>tensor.to(torch.bfloat16)</c>.
/// Byte spans are little-endian, as safetensors stores them.
/// </summary>
public static class FloatConversion
{
    public static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Truncation could turn a NaN with only low mantissa bits into infinity; force a quiet NaN instead.
            return (ushort)((bits >> 16) | 0x0040);
        }

        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float FromBFloat16Bits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort ToHalfBits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float FromHalfBits(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>Converts stored little-endian elements of <paramref name="dtype"/> to float.</summary>
    public static void ToFloat32(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length != destination.Length * dtype.ElementSize())
        {
            throw new ArgumentException(
                $"{source.Length} bytes of {dtype.ToSafeTensorsName()} do not fill {destination.Length} floats");
        }

        switch (dtype)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case TensorDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case TensorDType.BF16:
                BFloat16ToFloat32(MemoryMarshal.Cast<byte, ushort>(source), MemoryMarshal.Cast<float, uint>(destination));
                break;
            default:
                throw new ArgumentException($"{dtype.ToSafeTensorsName()} is not a floating-point dtype", nameof(dtype));
        }
    }

    /// <summary>Encodes floats as <paramref name="dtype"/> (F32, F16 or BF16) into a new little-endian byte array.</summary>
    public static byte[] FromFloat32(TensorDType dtype, ReadOnlySpan<float> values)
    {
        var bytes = new byte[checked(values.Length * dtype.ElementSize())];
        switch (dtype)
        {
            case TensorDType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
                break;
            case TensorDType.F16:
                TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()));
                break;
            case TensorDType.BF16:
                var words = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
                for (int i = 0; i < values.Length; i++)
                {
                    words[i] = ToBFloat16Bits(values[i]);
                }

                break;
            default:
                throw new ArgumentException($"{dtype.ToSafeTensorsName()} is not a floating-point dtype", nameof(dtype));
        }

        return bytes;
    }

    // BF16 is the top half of an F32, so widening is a shift; vectorised because whole checkpoints go through here.
    private static void BFloat16ToFloat32(ReadOnlySpan<ushort> source, Span<uint> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out Vector<uint> low, out Vector<uint> high);
                (low << 16).CopyTo(destination[i..]);
                (high << 16).CopyTo(destination[(i + Vector<uint>.Count)..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (uint)source[i] << 16;
        }
    }
}
