using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Tests.Calibration;

/// <summary>Self-calibration waves are as large as each layer's KV budget admits at full length, within [1, MaxWave].</summary>
public sealed class SelfCalibrationWaveTests
{
    [Fact]
    public void ALlama3_8BWaveOf2048TokenSamplesFillsTheDefaultGibibyte()
    {
        var config = SyntheticModels.Llama3_8B.Config;
        // 2048 positions × 8 KV heads × 128 × (K and V) × 4 bytes = 16 MiB per sequence and layer: 64 in 1 GiB.
        Assert.Equal(16L << 20, KvCacheSize.Bytes(2048, config.NumKeyValueHeads * config.HeadDim));
        Assert.Equal(64, SelfCalibration.Wave(config, 2048, 1L << 30));

        // bf16 caches hold twice the positions in the same bytes.
        Assert.Equal(128, SelfCalibration.Wave(config, 2048, 1L << 30, OrleansQuant.Gpu.TensorType.BFloat16));
        Assert.Equal(63, SelfCalibration.Wave(config, 2048, (1L << 30) - 1));
    }

    [Fact]
    public void WavesStayWithinOneAndTheCap()
    {
        var small = DemoModels.Tiny.Config;
        Assert.Equal(SelfCalibration.MaxWave, SelfCalibration.Wave(small, 64, 1L << 30));
        var large = SyntheticModels.Llama3_8B.Config;
        Assert.Equal(1, SelfCalibration.Wave(large, 2048, 1));
    }
}
