using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// F16/BF16 ⇄ F32 conversions with the rounding PyTorch uses (round to nearest, ties to even),
/// so that weights written here are bit-identical to <c>tensor.to(torch.bfloat16)</c>.
/// Byte spans are little-endian, as safetensors stores them.
/// </summary>
public static class FloatConversion
{
    public static ushort ToBFloat16Bits(float value) => BFloat16.RoundBits(value);

    public static float FromBFloat16Bits(ushort bits) => new BFloat16(bits).ToSingle();

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
                BFloat16.Widen(MemoryMarshal.Cast<byte, BFloat16>(source), destination);
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
                BFloat16.Narrow(values, MemoryMarshal.Cast<byte, BFloat16>(bytes.AsSpan()));
                break;
            default:
                throw new ArgumentException($"{dtype.ToSafeTensorsName()} is not a floating-point dtype", nameof(dtype));
        }

        return bytes;
    }
}
