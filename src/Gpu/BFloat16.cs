using System.Numerics;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu;

/// <summary>
/// A brain float (bfloat16): the top half of an IEEE float32 — 8 exponent bits, 7 mantissa bits — the storage type of
/// Llama-family checkpoints and of the full-precision weights on a GPU. Narrowing rounds to nearest, ties to even, as
/// <c>tensor.to(torch.bfloat16)</c> does (a NaN stays a quiet NaN); widening is exact.
/// .NET 10 has no such type, hence this one: a host value of <see cref="TensorType.BFloat16"/> tensors.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly record struct BFloat16(ushort Bits)
{
    public static BFloat16 FromSingle(float value) => new(RoundBits(value));

    /// <summary>
    /// <paramref name="value"/> rounded once to the nearest bfloat16 (not through float's rounding first, which could
    /// round twice): float is rounded to odd, which keeps the information a second rounding to 8 bits needs.
    /// </summary>
    public static BFloat16 FromDouble(double value)
    {
        float nearest = (float)value;
        uint bits = BitConverter.SingleToUInt32Bits(nearest);
        if ((double)nearest != value && !float.IsInfinity(nearest) && !double.IsNaN(value))
        {
            if (Math.Abs((double)nearest) > Math.Abs(value))
            {
                bits--; // one step toward zero: the truncated float
            }

            bits |= 1; // round to odd
        }

        return new BFloat16(RoundBits(BitConverter.UInt32BitsToSingle(bits)));
    }

    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    public static explicit operator BFloat16(float value) => FromSingle(value);

    public static explicit operator float(BFloat16 value) => value.ToSingle();

    /// <summary><paramref name="value"/> rounded to the nearest bfloat16 and widened back: what a bf16 tensor would hold.</summary>
    public static float Round(float value) => BitConverter.UInt32BitsToSingle((uint)RoundBits(value) << 16);

    /// <summary>The bits of <paramref name="value"/> rounded to nearest, ties to even.</summary>
    public static ushort RoundBits(float value)
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

    /// <summary>Rounds each float to bfloat16.</summary>
    public static void Narrow(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        RequireSameLength(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<BFloat16, ushort>(destination);
        for (int i = 0; i < source.Length; i++)
        {
            bits[i] = RoundBits(source[i]);
        }
    }

    /// <summary>Widens each bfloat16 to float (exactly: a shift), vectorised because whole checkpoints go through here.</summary>
    public static void Widen(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        RequireSameLength(source.Length, destination.Length);
        var from = MemoryMarshal.Cast<BFloat16, ushort>(source);
        var to = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            for (; i <= from.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(from[i..]), out Vector<uint> low, out Vector<uint> high);
                (low << 16).CopyTo(to[i..]);
                (high << 16).CopyTo(to[(i + Vector<uint>.Count)..]);
            }
        }

        for (; i < from.Length; i++)
        {
            to[i] = (uint)from[i] << 16;
        }
    }

    public override string ToString() => ToSingle().ToString();

    private static void RequireSameLength(int source, int destination)
    {
        if (source != destination)
        {
            throw new ArgumentException($"{source} values do not fill {destination}");
        }
    }
}
