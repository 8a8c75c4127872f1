using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>The CPU device's fused activation quantizations equal the two calls they fuse, with and without the float output.</summary>
public sealed class CpuFusedQuantizeTests
{
    [Theory]
    [InlineData(3, 64, true)]
    [InlineData(17, 130, false)]
    public void FusedEqualsUnfused(int tokens, int width, bool keepFloat)
    {
        using var device = new CpuDevice(maxThreads: 2);
        var random = new Random(tokens * 1000 + width);
        float[] Values(float scale) => Enumerable.Range(0, tokens * width).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        using var x = device.UploadNew<float>(Values(3f), tokens, width);
        using var up = device.UploadNew<float>(Values(2f), tokens, width);
        using var gain = device.UploadVector<float>(Values(1f).AsSpan(0, width));

        using var normed = device.Allocate(TensorType.Float32, tokens, width);
        device.RmsNorm(x, gain, 1e-6f, normed);
        var (codes, scales) = Quantize(device, normed);
        using var fusedNormed = keepFloat ? device.Allocate(TensorType.Float32, tokens, width) : null;
        using var fusedCodes = device.Allocate(TensorType.Int8, tokens, width);
        using var fusedScales = device.Allocate(TensorType.Float32, tokens, 1);
        device.RmsNormQuantize(x, gain, 1e-6f, fusedNormed, fusedCodes, fusedScales);
        Assert.Equal(codes, fusedCodes.ToArray<sbyte>());
        Assert.Equal(scales, fusedScales.ToArray<float>());
        Assert.True(codes.Any(c => c != 0), "the test quantized only zeros");
        if (fusedNormed is not null)
        {
            Assert.Equal(normed.ToArray<float>(), fusedNormed.ToArray<float>());
        }

        using var product = device.Allocate(TensorType.Float32, tokens, width);
        device.SiluMul(x, up, product);
        var (productCodes, productScales) = Quantize(device, product);
        device.SiluMulQuantize(x, up, keepFloat ? x : null, fusedCodes, fusedScales);
        Assert.Equal(productCodes, fusedCodes.ToArray<sbyte>());
        Assert.Equal(productScales, fusedScales.ToArray<float>());
        if (keepFloat)
        {
            Assert.Equal(product.ToArray<float>(), x.ToArray<float>());
        }
    }

    private static (sbyte[] Codes, float[] Scales) Quantize(IComputeDevice device, DeviceTensor x)
    {
        using var codes = device.Allocate(TensorType.Int8, x.Rows, x.Columns);
        using var scales = device.Allocate(TensorType.Float32, x.Rows, 1);
        device.QuantizePerToken(x, codes, scales);
        return (codes.ToArray<sbyte>(), scales.ToArray<float>());
    }
}
