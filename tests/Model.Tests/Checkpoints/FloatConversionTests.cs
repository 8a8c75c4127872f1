using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Checkpoints;

public sealed class FloatConversionTests
{
    // Expected bits are those of torch.tensor([v]).to(torch.bfloat16 / torch.float16).view(torch.int16).
    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(-2.5f, 0xC020)]
    [InlineData(3.14159f, 0x4049)]
    [InlineData(0.0f, 0x0000)]
    [InlineData(-0.0f, 0x8000)]
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(65504.0f, 0x4780)]
    public void BFloat16_encodes_known_bit_patterns(float value, int bits) =>
        Assert.Equal((ushort)bits, FloatConversion.ToBFloat16Bits(value));

    [Fact]
    public void BFloat16_rounds_ties_to_even()
    {
        // 1 + 2^-8 lies exactly halfway between bf16 1.0 (0x3F80, even) and 1.0078125 (0x3F81): ties go to even.
        Assert.Equal((ushort)0x3F80, FloatConversion.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808000)));

        // Halfway above an odd mantissa rounds up to the next even one.
        Assert.Equal((ushort)0x3F82, FloatConversion.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F818000)));

        // Just above halfway always rounds up.
        Assert.Equal((ushort)0x3F81, FloatConversion.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void BFloat16_keeps_nan_a_nan()
    {
        // A NaN whose payload sits only in the low 16 bits would truncate to infinity.
        float nan = BitConverter.UInt32BitsToSingle(0x7F800001);
        Assert.True(float.IsNaN(FloatConversion.FromBFloat16Bits(FloatConversion.ToBFloat16Bits(nan))));
    }

    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(-2.5f, 0xC100)]
    [InlineData(3.14159f, 0x4248)]
    [InlineData(65504.0f, 0x7BFF)]
    public void Float16_encodes_known_bit_patterns(float value, int bits) =>
        Assert.Equal((ushort)bits, FloatConversion.ToHalfBits(value));

    [Fact]
    public void Vectorised_bfloat16_decode_matches_scalar_decode_on_every_length()
    {
        // Lengths around the vector width exercise both the SIMD body and the scalar tail.
        for (int length = 0; length < 70; length++)
        {
            var values = Enumerable.Range(0, length).Select(i => (i - 30) * 0.37f).ToArray();
            byte[] bytes = FloatConversion.FromFloat32(TensorDType.BF16, values);
            var decoded = new float[length];
            FloatConversion.ToFloat32(TensorDType.BF16, bytes, decoded);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(FloatConversion.FromBFloat16Bits(FloatConversion.ToBFloat16Bits(values[i])), decoded[i]);
            }
        }
    }
}
