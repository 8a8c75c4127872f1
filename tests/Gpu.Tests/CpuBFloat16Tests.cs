using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// <see cref="BFloat16"/>'s rounding (ties to even, NaN, infinity, overflow as PyTorch's <c>.to(torch.bfloat16)</c>, one
/// rounding from double) and the CPU device's BFloat16 tensors and operations against plain references.
/// </summary>
public sealed class CpuBFloat16Tests
{
    private static ushort Bits(float value) => BFloat16.FromSingle(value).Bits;

    private static float Float(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // 1 + 2^-8: halfway between 1 and 1 + 2^-7, to the even 1
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway between 0x3F81 and 0x3F82, to the even 0x3F82
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above a tie: up
    [InlineData(0x3F817FFFu, (ushort)0x3F81)] // just below a tie: down
    [InlineData(0xBF808000u, (ushort)0xBF80)] // ties to even by magnitude for negatives too
    [InlineData(0x00000001u, (ushort)0x0000)] // the smallest float subnormal rounds to zero
    [InlineData(0x80000000u, (ushort)0x8000)] // -0 stays -0
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +inf
    [InlineData(0xFF800000u, (ushort)0xFF80)] // -inf
    [InlineData(0x7F7F7FFFu, (ushort)0x7F7F)] // below the tie past the largest finite bf16: stays finite
    [InlineData(0x7F7F8000u, (ushort)0x7F80)] // the tie between 0x7F7F (odd) and infinity: to the even infinity
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue rounds past the largest finite bf16 to inf, as PyTorch does
    [InlineData(0xFF7FFFFFu, (ushort)0xFF80)]
    public void RoundsToNearestTiesToEven(uint floatBits, ushort expected)
    {
        Assert.Equal(expected, Bits(Float(floatBits)));
        Assert.Equal(BitConverter.UInt32BitsToSingle((uint)expected << 16), BFloat16.Round(Float(floatBits)));
    }

    [Theory]
    [InlineData(0x7FC00000u)]
    [InlineData(0x7F800001u)] // a signalling NaN whose payload truncation would drop: must not become infinity
    [InlineData(0xFF800001u)]
    [InlineData(0x7FFFFFFFu)]
    public void NaNStaysAQuietNaN(uint floatBits)
    {
        ushort bits = Bits(Float(floatBits));
        Assert.True(float.IsNaN(new BFloat16(bits).ToSingle()), $"0x{floatBits:X8} became 0x{bits:X4}");
        Assert.True((bits & 0x0040) != 0, $"0x{bits:X4} is not quiet");
        Assert.Equal(floatBits >> 31, (uint)bits >> 15);
        Assert.True(float.IsNaN(new BFloat16(BFloat16.FromDouble(double.NaN).Bits).ToSingle()));
    }

    [Fact]
    public void FromDoubleRoundsOnceWhereThroughFloatWouldRoundTwice()
    {
        // Just above the tie 1 + 2^-8: float rounds it onto the tie, and bf16 then rounds the tie to the even 1.0.
        double d = 1 + Math.Pow(2, -8) + Math.Pow(2, -40);
        Assert.Equal(0x3F80, ((BFloat16)(float)d).Bits);
        Assert.Equal(0x3F81, BFloat16.FromDouble(d).Bits);
        // Just below: float rounds up onto the tie, and the tie rounds up to the even 0x3F82 — once, it is 0x3F81.
        double below = 1 + 3 * Math.Pow(2, -8) - Math.Pow(2, -40);
        Assert.Equal(0x3F82, ((BFloat16)(float)below).Bits);
        Assert.Equal(0x3F81, BFloat16.FromDouble(below).Bits);
    }

    [Fact]
    public void FromDoubleIsTheCorrectlyRoundedBFloat16()
    {
        var random = new Random(16);
        for (int i = 0; i < 200_000; i++)
        {
            // Normal doubles over many binades, some on or right beside a bf16 tie.
            double d = (random.NextDouble() + 0.5) * Math.Pow(2, random.Next(-100, 100)) * (random.Next(2) == 0 ? 1 : -1);
            if (i % 3 == 0)
            {
                long tie = (BitConverter.DoubleToInt64Bits(d) & ~((1L << 45) - 1)) | (1L << 44);
                d = BitConverter.Int64BitsToDouble(tie + random.Next(-2, 3));
            }

            Assert.Equal(CorrectlyRounded(d), BFloat16.FromDouble(d).Bits);
        }
    }

    // Round to nearest even at bf16's 7 mantissa bits directly on the double's bits (normal range only).
    private static ushort CorrectlyRounded(double d)
    {
        long bits = BitConverter.DoubleToInt64Bits(d);
        long rounded = (bits + ((1L << 44) - 1) + ((bits >> 45) & 1)) & ~((1L << 45) - 1);
        return (ushort)(BitConverter.SingleToUInt32Bits((float)BitConverter.Int64BitsToDouble(rounded)) >> 16);
    }

    [Fact]
    public void UploadDownloadAndCopyRowsRoundTrip()
    {
        using var device = new CpuDevice();
        var values = Enumerable.Range(0, 12).Select(i => new BFloat16((ushort)(0x3F80 + i * 37))).ToArray();
        using var source = device.UploadNew<BFloat16>(values, 4, 3);
        Assert.Equal(TensorType.BFloat16, source.Type);
        Assert.Equal(24, source.ByteLength);
        Assert.Equal(values, source.ToArray<BFloat16>());
        using var destination = device.Allocate(TensorType.BFloat16, 5, 3);
        device.CopyRows(source, 1, destination, 2, 3);
        var copied = destination.ToArray<BFloat16>();
        Assert.Equal(new BFloat16[6], copied[..6]);
        Assert.Equal(values[3..12], copied[6..15]);
    }

    [Theory]
    [MemberData(nameof(BFloat16Samples.ConversionPairs), MemberType = typeof(BFloat16Samples))]
    public void ConvertEqualsTheCasts(TensorType from, TensorType to)
    {
        using var device = new CpuDevice();
        var doubles = BFloat16Samples.Doubles(new Random(7), 3000);
        using var source = BFloat16Samples.Upload(device, from, doubles, 60, 50);
        using var destination = device.Allocate(to, 60, 50);
        device.Convert(source, destination);
        Assert.Equal(BFloat16Samples.ConvertedBits(from, to, doubles), BFloat16Samples.BitsOf(destination));
    }

    [Theory]
    [InlineData(3, 96, 40, false)]
    [InlineData(7, 130, 33, true)]
    [InlineData(64, 257, 70, true)]
    public void MatMulWithABFloat16WeightSumsRoundedProducts(int tokens, int inner, int outputs, bool withBias)
    {
        var random = new Random(tokens * 1000 + inner);
        var x = RandomFloats(random, tokens * inner, 3f);
        var w = RandomFloats(random, outputs * inner, 0.5f).Select(BFloat16.FromSingle).ToArray();
        var b = RandomFloats(random, outputs, 1f);
        using var device = new CpuDevice();
        using var input = device.UploadNew<float>(x, tokens, inner);
        using var weight = device.UploadNew<BFloat16>(w, outputs, inner);
        using var bias = device.UploadVector<float>(b);
        using var output = device.Allocate(TensorType.Float32, tokens, outputs);
        device.MatMul(input, weight, withBias ? bias : null, output);
        var actual = output.ToArray<float>();
        for (int t = 0; t < tokens; t++)
        {
            for (int n = 0; n < outputs; n++)
            {
                double sum = withBias ? b[n] : 0, magnitude = withBias ? Math.Abs(b[n]) : 0;
                for (int k = 0; k < inner; k++)
                {
                    double product = (double)BFloat16.Round(x[t * inner + k]) * w[n * inner + k].ToSingle();
                    sum += product;
                    magnitude += Math.Abs(product);
                }

                // Float sums of exact products: at most (inner + 1) roundings of 2^-24 relative to the running magnitudes.
                double tolerance = (inner + 2) * Math.Pow(2, -24) * magnitude + 1e-30;
                Assert.True(Math.Abs(actual[t * outputs + n] - sum) <= tolerance,
                    $"[{t}, {n}]: {actual[t * outputs + n]} vs {sum} (tolerance {tolerance:E2})");
            }
        }
    }

    [Fact]
    public void AbsMaxAndGramOfBFloat16EqualThoseOfTheWidenedFloats()
    {
        const int n = 70;
        using var device = new CpuDevice();
        using var absMaxBf16 = device.Allocate(TensorType.Float32, 1, n);
        using var absMaxFloat = device.Allocate(TensorType.Float32, 1, n);
        using var gramBf16 = device.Allocate(TensorType.Float64, n, n);
        using var gramFloat = device.Allocate(TensorType.Float64, n, n);
        var random = new Random(70);
        foreach (int tokens in new[] { 1, 33, 300 })
        {
            var x = RandomFloats(random, tokens * n, 8f).Select(BFloat16.FromSingle).ToArray();
            var widened = new float[x.Length];
            BFloat16.Widen(x, widened);
            using var bf16 = device.UploadNew<BFloat16>(x, tokens, n);
            using var floats = device.UploadNew<float>(widened, tokens, n);
            device.AccumulateAbsMax(bf16, absMaxBf16);
            device.AccumulateAbsMax(floats, absMaxFloat);
            device.AccumulateGram(bf16, gramBf16);
            device.AccumulateGram(floats, gramFloat);
        }

        Assert.Equal(absMaxFloat.ToArray<float>(), absMaxBf16.ToArray<float>());
        Assert.Equal(gramFloat.ToArray<double>(), gramBf16.ToArray<double>());
    }

    [Fact]
    public void EmbedFromABFloat16TableWidensItsRows()
    {
        const int vocabulary = 50, width = 24;
        var random = new Random(50);
        var table = RandomFloats(random, vocabulary * width, 4f).Select(BFloat16.FromSingle).ToArray();
        int[] ids = [3, 0, 49, 3, 17];
        using var device = new CpuDevice();
        using var rows = device.UploadNew<BFloat16>(table, vocabulary, width);
        using var tokens = device.UploadVector<int>(ids);
        using var output = device.Allocate(TensorType.Float32, ids.Length, width);
        device.Embed(tokens, rows, output);
        var expected = ids.SelectMany(id => table.AsSpan(id * width, width).ToArray().Select(v => v.ToSingle())).ToArray();
        Assert.Equal(expected, output.ToArray<float>());
    }

    private static float[] RandomFloats(Random random, int count, float scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }
}
