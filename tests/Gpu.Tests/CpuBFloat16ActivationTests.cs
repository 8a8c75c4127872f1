using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// BFloat16 activations on the CPU device (<see cref="IComputeDevice"/>, "Activations"): each op equals the Float32 op
/// on the widened inputs with its outputs rounded once, in place and aliased calls included, and fused ops round the
/// intermediate the unfused calls would store. This device is the reference the GPU's bf16 kernels are held against.
/// </summary>
public sealed class CpuBFloat16ActivationTests
{
    private readonly CpuDevice _device = new(maxThreads: 2);
    private readonly Random _random = new(20261129);

    [Fact]
    public void RmsNormOfBf16IsTheFloatNormOfTheWidenedRowsRoundedOnce()
    {
        var (x, xf) = Activation(5, 96, 3f);
        using var gain = _device.UploadVector<float>(Floats(96, 2f));
        using var output = _device.Allocate(TensorType.BFloat16, 5, 96);
        using var expected = _device.Allocate(TensorType.Float32, 5, 96);
        _device.RmsNorm(x, gain, 1e-5f, output);
        _device.RmsNorm(xf, gain, 1e-5f, expected);

        Assert.Equal(Rounded(expected), output.ToFloats());
        x.Dispose();
        xf.Dispose();
    }

    [Fact]
    public void InPlaceSwiGluAndResidualAddRoundTheirResultOnce()
    {
        var (gate, gateFloat) = Activation(4, 70, 4f);
        var (up, upFloat) = Activation(4, 70, 2f);
        using var product = _device.Allocate(TensorType.Float32, 4, 70);
        _device.SiluMul(gateFloat, upFloat, product);
        _device.SiluMul(gate, up, gate); // the output is the gate itself
        Assert.Equal(Rounded(product), gate.ToFloats());

        // up += gate, both bf16 (gate now the rounded product): the float sum of the two, rounded once.
        float[] upBefore = up.ToFloats(), gateNow = gate.ToFloats();
        _device.AddInPlace(up, gate);
        Assert.Equal(upBefore.Zip(gateNow, (a, b) => BFloat16.Round(a + b)).ToArray(), up.ToFloats());
        foreach (var tensor in new[] { gate, gateFloat, up, upFloat })
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void A_bf16_residual_accumulates_a_w8a8_linear_rounded_once()
    {
        int tokens = 6, inner = 64, outputs = 40;
        var (codes, tokenScales) = QuantizedInput(tokens, inner);
        using var weight = _device.UploadNew<sbyte>(Enumerable.Range(0, outputs * inner).Select(_ => (sbyte)_random.Next(-127, 128)).ToArray(), outputs, inner);
        using var weightScales = _device.UploadVector<float>(Floats(outputs, 0.01f).Select(MathF.Abs).ToArray());
        var (residual, residualFloat) = Activation(tokens, outputs, 5f);
        using var linear = _device.Allocate(TensorType.Float32, tokens, outputs);
        _device.MatMulInt8(codes, tokenScales, weight, weightScales, null, linear);

        _device.MatMulInt8(codes, tokenScales, weight, weightScales, null, residual, accumulate: true);

        float[] start = residualFloat.ToFloats(), product = linear.ToFloats();
        float[] expected = start.Zip(product, (r, y) => BFloat16.Round(r + y)).ToArray();
        Assert.Equal(expected, residual.ToFloats());
        residual.Dispose();
        residualFloat.Dispose();
        codes.Dispose();
        tokenScales.Dispose();
    }

    [Fact]
    public void Fused_norm_quantization_without_a_float_output_quantizes_the_bf16_rounded_norm()
    {
        var (x, _) = Activation(7, 128, 3f);
        using var gain = _device.UploadVector<float>(Floats(128, 2f));
        using var normed = _device.Allocate(TensorType.BFloat16, 7, 128);
        _device.RmsNorm(x, gain, 1e-5f, normed);
        using var codes = _device.Allocate(TensorType.Int8, 7, 128);
        using var scales = _device.Allocate(TensorType.Float32, 7, 1);
        _device.QuantizePerToken(normed, codes, scales);

        using var fusedCodes = _device.Allocate(TensorType.Int8, 7, 128);
        using var fusedScales = _device.Allocate(TensorType.Float32, 7, 1);
        _device.RmsNormQuantize(x, gain, 1e-5f, null, fusedCodes, fusedScales);

        Assert.Equal(codes.ToArray<sbyte>(), fusedCodes.ToArray<sbyte>());
        Assert.Equal(scales.ToArray<float>(), fusedScales.ToArray<float>());
        x.Dispose();
    }

    private (DeviceTensor Bf16, DeviceTensor Widened) Activation(int rows, int columns, float scale)
    {
        float[] values = Floats(rows * columns, scale);
        var bf16 = _device.UploadFloats(values, rows, columns, TensorType.BFloat16);
        return (bf16, _device.UploadNew<float>(bf16.ToFloats(), rows, columns));
    }

    private (DeviceTensor Codes, DeviceTensor Scales) QuantizedInput(int tokens, int inner)
    {
        using var x = _device.UploadNew<float>(Floats(tokens * inner, 2f), tokens, inner);
        var codes = _device.Allocate(TensorType.Int8, tokens, inner);
        var scales = _device.Allocate(TensorType.Float32, tokens, 1);
        _device.QuantizePerToken(x, codes, scales);
        return (codes, scales);
    }

    private float[] Floats(int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(_random.NextDouble() * 2 - 1) * scale).ToArray();

    private static float[] Rounded(DeviceTensor tensor) => tensor.ToArray<float>().Select(BFloat16.Round).ToArray();
}
