using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// The device's kernels on their own: a device-to-device copy (the bandwidth a decode step is bounded by) and, for each
/// fused linear of a layer at each token count, the float GEMM, the int8 GEMM, per-token quantization and the whole
/// W8A8 linear. Call on the device's own worker, as layer code is.
/// </summary>
public static class KernelBenchmarks
{
    /// <summary>Copies a <paramref name="bytes"/> float tensor into another on the device.</summary>
    public static CopyResult Copy(IComputeDevice device, BenchmarkClock clock, long bytes)
    {
        const int width = 1024;
        int rows = (int)Math.Max(1, bytes / (width * sizeof(float)));
        using var source = device.Allocate(TensorType.Float32, rows, width);
        using var destination = device.Allocate(TensorType.Float32, rows, width);
        double ms = clock.Measure(device, _ => device.CopyRows(source, 0, destination, 0, rows));
        return new CopyResult(source.ByteLength, ms, 2.0 * source.ByteLength / (ms * 1e-3) / 1e9);
    }

    public static IReadOnlyList<GemmResult> Gemm(IComputeDevice device, BenchmarkShapes shapes, BenchmarkClock clock, int seed = 0,
        Action<string>? progress = null, CancellationToken cancellation = default)
    {
        var results = new List<GemmResult>();
        var ops = shapes.GemmOps;
        for (int o = 0; o < ops.Count; o++)
        {
            var (op, k, n) = ops[o];

            // Weights once per op, reused at every token count: the float ones for MatMul, random int8 codes with
            // per-channel scales for the W8A8 linear (pre-quantized, as a served layer holds them).
            using var floatWeight = device.UploadFloats(RandomValues.Uniform((long)n * k, 1 / MathF.Sqrt(k), seed + o), n, k, WeightPrecision.Auto.StorageOn(device));
            using var linear = new Int8Linear(
                device.UploadNew<sbyte>(RandomValues.Int8((long)n * k, seed + 100 + o), n, k),
                device.UploadVector<float>(RandomValues.Uniform(n, 1e-3f, seed + 200 + o).Select(s => Math.Abs(s) + 1e-4f).ToArray()),
                bias: null);
            // Inputs and outputs as a served model's activations are on this device (bf16 on a GPU, as torch's side is).
            var activations = WeightPrecision.Auto.StorageOn(device);
            foreach (int tokens in shapes.Tokens)
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.Invoke($"gemm {op} {tokens}×{k}·{k}×{n}");
                using var x = device.UploadFloats(RandomValues.Uniform((long)tokens * k, 1, seed + 300 + tokens), tokens, k, activations);
                using var quantized = device.Allocate(TensorType.Int8, tokens, k);
                using var tokenScales = device.Allocate(TensorType.Float32, tokens, 1);
                using var output = device.Allocate(activations, tokens, n);
                device.QuantizePerToken(x, quantized, tokenScales);

                double fp = clock.Measure(device, _ => device.MatMul(x, floatWeight, null, output));
                double int8 = clock.Measure(device, _ => device.MatMulInt8(quantized, tokenScales, linear.Weight, linear.WeightScales, null, output));
                double quantize = clock.Measure(device, _ => device.QuantizePerToken(x, quantized, tokenScales));
                double w8a8 = clock.Measure(device, _ => linear.Forward(x, output));
                results.Add(new GemmResult(tokens, op, k, n, fp, int8, quantize, w8a8));
            }
        }

        // bench_torch.py's order: token counts outer, ops inner.
        return results.OrderBy(r => shapes.Tokens.ToList().IndexOf(r.Tokens))
            .ThenBy(r => ops.Select(x => x.Op).ToList().IndexOf(r.Op)).ToArray();
    }
}
