using OrleansQuant.Model;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>A GPU layer's bf16 full-precision weights parked in page-locked host memory come back bit for bit, and the device copy is freed.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaFullPrecisionCopyTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void ParkedWeightsComeBackBitForBit()
    {
        var gpu = devices.Gpu;
        using var source = ModelSource.Open("synthetic:tiny", WeightPrecision.BFloat16);
        var weights = source.LoadLayer(1, gpu);
        var expected = Bits(weights);
        using var copy = FullPrecisionCopy.Of(weights);
        Assert.True(copy.LeftService(gpu, FullPrecisionPlacement.Host));
        Assert.True(weights.InputNorm.IsDisposed);
        Assert.Equal(expected, copy.Use(gpu, Bits));
        Assert.Equal(expected, copy.Use(gpu, Bits));
    }

    private static List<uint[]> Bits(DecoderLayerWeights weights) =>
        LinearSlot.All.Select(slot => ((FloatLinear)slot.Get(weights)).Weight.ToArray<BFloat16>().Select(v => (uint)v.Bits).ToArray())
            .Append(weights.InputNorm.ToArray<float>().Select(BitConverter.SingleToUInt32Bits).ToArray())
            .Append(weights.PostAttentionNorm.ToArray<float>().Select(BitConverter.SingleToUInt32Bits).ToArray())
            .ToList();
}
