using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>
/// SmoothQuant + GPTQ against ../shared/reference/gptq_ref.py (float64 PyTorch), through the same pieces the layer
/// quantizer uses, as device work on a <see cref="CpuDevice"/>: statistics accumulated from X, smoothing scales, the rescaled
/// Hessian, GPTQ, the losses.
/// Golden files: tests/golden (make_golden.sh).
/// </summary>
public sealed class GptqReferenceTests
{
    public static TheoryData<string, string, double, bool> Cases => new()
    {
        { "plain", "plain", 0.8, false },             // three 128-column blocks and a dead input channel
        { "actorder", "actorder", 0.8, true },
        { "outliers", "outliers", 0.8, false },        // 40×/25× outlier input channels
        { "outliers", "outliers-nosmooth", 0.0, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTheReference(string input, string output, double alpha, bool actOrder)
    {
        using var inputs = SafeTensorsFile.Open(TestModels.Golden($"{input}.in.safetensors"));
        using var golden = SafeTensorsFile.Open(TestModels.Golden($"{output}.out.safetensors"));
        int rows = (int)inputs.Tensors["W"].Shape[0], columns = (int)inputs.Tensors["W"].Shape[1];
        int samples = (int)inputs.Tensors["X"].Shape[0];
        double[] w = Array.ConvertAll(inputs.ReadFloat32("W"), v => (double)v);
        float[] x = inputs.ReadFloat32("X");

        using var device = new CpuDevice();
        using var statistics = new LinearInputStatistics(device, columns);
        using var activations = device.UploadNew<float>(x, samples, columns);
        statistics.Accumulate(activations);
        using var original = device.UploadNew<float>(Array.ConvertAll(w, v => (float)v), rows, columns);

        double[] smoothing = alpha > 0 ? SmoothQuant.Scales(statistics.AbsMax, SmoothQuant.WeightAbsMax(device, [original]), alpha) : [];
        using var scales = alpha > 0 ? device.UploadVector<double>(smoothing) : null;
        using var inverse = alpha > 0 ? device.UploadVector<double>(Array.ConvertAll(smoothing, s => 1 / s)) : null;
        using var servedInverse = alpha > 0 ? device.UploadVector<float>(Array.ConvertAll(smoothing, s => (float)(1 / s))) : null;
        if (alpha > 0)
        {
            AssertRelative(golden.ReadFloat32("smooth_scales"), smoothing, 1e-5, "smoothing scale");
        }

        using var ws = SmoothQuant.SmoothedWeights(device, original, scales);
        using var h = statistics.Hessian(inverse);
        AssertRelative(golden.ReadFloat32("W_smoothed"), ws.ToArray<double>(), 1e-5, "smoothed weight");
        AssertHessian(golden.ReadFloat32("H"), h.ToArray<double>());

        // GPTQ consumes its Hessian: it gets its own.
        using var consumed = statistics.Hessian(inverse);
        using var q = Gptq.Quantize(device, ws, consumed, new GptqOptions(ActOrder: actOrder));
        sbyte[] expectedQ = golden.ReadInt8("q"), values = q.Values.ToArray<sbyte>();
        int equal = expectedQ.Zip(values, (a, b) => a == b ? 1 : 0).Sum();
        int worst = expectedQ.Zip(values, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(equal >= 0.995 * expectedQ.Length, $"{equal}/{expectedQ.Length} int8 weights equal; expected ≥ 99.5 %");
        Assert.True(worst <= 1, $"an int8 weight is off by {worst}; expected at most 1");
        AssertRelative(golden.ReadFloat32("scale"), q.Scales.ToArray<float>().Select(v => (double)v).ToArray(), 1e-6, "channel scale");

        using var rtn = RoundToNearest.Quantize(device, ws);
        AssertLoss(golden, "loss_gptq", W8A8Error.WeightLoss(device, ws, q, h));
        AssertLoss(golden, "loss_rtn", W8A8Error.WeightLoss(device, ws, rtn, h));
        AssertLoss(golden, "loss_w8a8", W8A8Error.MeanSquared(device, activations, original, q, servedInverse));
    }

    private static void AssertRelative(float[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Max(Math.Abs(expected[i]), 1e-30);
            Assert.True(Math.Abs(expected[i] - actual[i]) / scale <= tolerance, $"{what} {i}: {actual[i]:R} vs reference {expected[i]:R}");
        }
    }

    // The reference stores H in float32: compare each entry relative to the diagonal scale it sits beside.
    private static void AssertHessian(float[] expected, double[] actual)
    {
        int n = (int)Math.Sqrt(expected.Length);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double scale = Math.Sqrt(Math.Abs((double)expected[i * n + i] * expected[j * n + j])) + 1e-30;
                Assert.True(Math.Abs(expected[i * n + j] - actual[i * n + j]) / scale <= 1e-5, $"H[{i},{j}]: {actual[i * n + j]:R} vs reference {expected[i * n + j]:R}");
            }
        }
    }

    private static void AssertLoss(SafeTensorsFile golden, string name, double actual)
    {
        double expected = golden.ReadFloat32(name)[0];
        Assert.True(Math.Abs(actual - expected) <= 0.01 * expected, $"{name} = {actual:E4}; reference {expected:E4} (expected within 1 %)");
    }
}
