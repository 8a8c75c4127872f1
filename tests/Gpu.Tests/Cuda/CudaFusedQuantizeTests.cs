namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The fused activation quantizations on the GPU (RMSNorm → int8, SwiGLU → int8) equal the unfused kernels on the same
/// GPU bit for bit — codes, scales and the optional float output — so fusing changes no served token.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaFusedQuantizeTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    [GpuTheory]
    [InlineData(1, 4096, true)]
    [InlineData(300, 4096, false)]
    [InlineData(37, 1001, true)]
    public void RmsNormQuantizeEqualsNormThenQuantize(int tokens, int width, bool keepFloat)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        using var x = gpu.UploadNew<float>(Compare.Floats(random, tokens * width, 3f), tokens, width);
        using var gain = gpu.UploadVector<float>(Compare.Floats(random, width, 2f));
        using var normed = gpu.Allocate(TensorType.Float32, tokens, width);
        var (codes, scales) = Quantized(gpu, tokens, width);
        gpu.RmsNorm(x, gain, 1e-5f, normed);
        gpu.QuantizePerToken(normed, codes, scales);

        using var fusedFloat = keepFloat ? gpu.Allocate(TensorType.Float32, tokens, width) : null;
        var (fusedCodes, fusedScales) = Quantized(gpu, tokens, width);
        gpu.RmsNormQuantize(x, gain, 1e-5f, fusedFloat, fusedCodes, fusedScales);

        AssertEqual(codes, scales, fusedCodes, fusedScales, seed);
        if (fusedFloat is not null)
        {
            Assert.True(normed.ToArray<float>().AsSpan().SequenceEqual(fusedFloat.ToArray<float>()), $"normed floats differ (seed {seed})");
        }
    }

    [GpuTheory]
    [InlineData(1, 14336, false)]
    [InlineData(64, 14336, true)]
    [InlineData(5, 999, true)]
    public void SiluMulQuantizeEqualsSiluMulThenQuantizeEvenInPlace(int tokens, int width, bool inPlace)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        var gateValues = Compare.Floats(random, tokens * width, 4f);
        var upValues = Compare.Floats(random, tokens * width, 2f);
        using var gate = gpu.UploadNew<float>(gateValues, tokens, width);
        using var up = gpu.UploadNew<float>(upValues, tokens, width);
        using var product = gpu.Allocate(TensorType.Float32, tokens, width);
        var (codes, scales) = Quantized(gpu, tokens, width);
        gpu.SiluMul(gate, up, product);
        gpu.QuantizePerToken(product, codes, scales);

        var (fusedCodes, fusedScales) = Quantized(gpu, tokens, width);
        gpu.SiluMulQuantize(gate, up, inPlace ? gate : null, fusedCodes, fusedScales);

        AssertEqual(codes, scales, fusedCodes, fusedScales, seed);
        if (inPlace)
        {
            Assert.True(product.ToArray<float>().AsSpan().SequenceEqual(gate.ToArray<float>()), $"in-place SwiGLU output differs (seed {seed})");
        }
        else
        {
            Assert.True(gateValues.AsSpan().SequenceEqual(gate.ToArray<float>()), "the gate changed though no float output was asked for");
        }
    }

    private static (DeviceTensor Codes, DeviceTensor Scales) Quantized(IComputeDevice device, int tokens, int width) =>
        (device.Allocate(TensorType.Int8, tokens, width), device.Allocate(TensorType.Float32, tokens, 1));

    private static void AssertEqual(DeviceTensor codes, DeviceTensor scales, DeviceTensor fusedCodes, DeviceTensor fusedScales, int seed)
    {
        using (codes)
        using (scales)
        using (fusedCodes)
        using (fusedScales)
        {
            Assert.True(scales.ToArray<float>().AsSpan().SequenceEqual(fusedScales.ToArray<float>()), $"scales differ (seed {seed})");
            Assert.True(codes.ToArray<sbyte>().AsSpan().SequenceEqual(fusedCodes.ToArray<sbyte>()), $"codes differ (seed {seed})");
        }
    }
}
