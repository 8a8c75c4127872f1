namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// Values that exercise every conversion among Float32, Float64 and BFloat16 (NaN, infinities, signed zeros, ties,
/// values on either side of a tie, near bf16's largest finite value, subnormals), and the host casts they must equal:
/// shared by the CPU and CUDA device tests.
/// </summary>
public static class BFloat16Samples
{
    /// <summary>The six conversions <see cref="IComputeDevice.Convert"/> makes among Float32, Float64 and BFloat16.</summary>
    public static TheoryData<TensorType, TensorType> ConversionPairs => new()
    {
        { TensorType.Float32, TensorType.Float64 },
        { TensorType.Float64, TensorType.Float32 },
        { TensorType.Float32, TensorType.BFloat16 },
        { TensorType.BFloat16, TensorType.Float32 },
        { TensorType.BFloat16, TensorType.Float64 },
        { TensorType.Float64, TensorType.BFloat16 },
    };

    public static double[] Doubles(Random random, int count)
    {
        double[] special =
        [
            double.NaN, -double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1.0, -1.0,
            1 + Math.Pow(2, -8), 1 + 3 * Math.Pow(2, -8), 1 + Math.Pow(2, -8) + Math.Pow(2, -40), 1 + 3 * Math.Pow(2, -8) - Math.Pow(2, -40),
            BitConverter.UInt32BitsToSingle(0x7F7F0000), BitConverter.UInt32BitsToSingle(0x7F7F7FFF), BitConverter.UInt32BitsToSingle(0x7F7F8000),
            float.MaxValue, -float.MaxValue, 3.4e38, 3.5e38, 1e300, -1e300, float.Epsilon, -float.Epsilon, 1e-40, 1e-45, 1e-320,
            BitConverter.UInt32BitsToSingle(0x00808000), BitConverter.UInt32BitsToSingle(0x00018000),
        ];
        var values = new double[count];
        special.CopyTo(values, 0);
        for (int i = special.Length; i < count; i++)
        {
            double d = (random.NextDouble() + 0.5) * Math.Pow(2, random.Next(-140, 130)) * (random.Next(2) == 0 ? 1 : -1);
            if (i % 4 == 0)
            {
                // On, or a few double ulps beside, a bf16 tie.
                long tie = (BitConverter.DoubleToInt64Bits(d) & ~((1L << 45) - 1)) | (1L << 44);
                d = BitConverter.Int64BitsToDouble(tie + random.Next(-2, 3));
            }
            else if (i % 4 == 1)
            {
                // On a float's bf16 tie exactly (the float path's ties).
                d = BitConverter.UInt32BitsToSingle((BitConverter.SingleToUInt32Bits((float)d) & 0xFFFF0000u) | 0x8000u);
            }

            values[i] = d;
        }

        return values;
    }

    /// <summary>A tensor of <paramref name="type"/> holding <paramref name="values"/> as that type's cast of them.</summary>
    public static DeviceTensor Upload(IComputeDevice device, TensorType type, double[] values, int rows, int columns) => type switch
    {
        TensorType.Float64 => device.UploadNew<double>(values, rows, columns),
        TensorType.Float32 => device.UploadNew<float>(values.Select(v => (float)v).ToArray(), rows, columns),
        TensorType.BFloat16 => device.UploadNew<BFloat16>(values.Select(BFloat16.FromDouble).ToArray(), rows, columns),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>What converting the <paramref name="from"/> cast of the values to <paramref name="to"/> must give, as bits.</summary>
    public static ulong[] ConvertedBits(TensorType from, TensorType to, double[] values)
    {
        double Source(double v) => from switch
        {
            TensorType.Float64 => v,
            TensorType.Float32 => (float)v,
            _ => BFloat16.FromDouble(v).ToSingle(),
        };

        return values.Select(v => to switch
        {
            TensorType.Float64 => (ulong)BitConverter.DoubleToInt64Bits(Source(v)),
            TensorType.Float32 => BitConverter.SingleToUInt32Bits((float)Source(v)),
            _ => from == TensorType.Float64 ? BFloat16.FromDouble(Source(v)).Bits : (ulong)BFloat16.FromSingle((float)Source(v)).Bits,
        }).ToArray();
    }

    public static ulong[] BitsOf(DeviceTensor tensor) => tensor.Type switch
    {
        TensorType.Float64 => tensor.ToArray<double>().Select(v => (ulong)BitConverter.DoubleToInt64Bits(v)).ToArray(),
        TensorType.Float32 => tensor.ToArray<float>().Select(v => (ulong)BitConverter.SingleToUInt32Bits(v)).ToArray(),
        TensorType.BFloat16 => tensor.ToArray<BFloat16>().Select(v => (ulong)v.Bits).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
    };
}
