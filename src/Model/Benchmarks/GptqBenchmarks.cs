using System.Diagnostics;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// <see cref="Gptq.Quantize"/> of one linear with llm-compressor's defaults (block 128, dampening 0.01, no act-order), on
/// the threads its device gives host work. The Hessian H = 2/n·XᵀX of n random activation rows is made on the device
/// (one <c>MatMul</c> of Xᵀ with itself) and is not part of the time: GPTQ's cost depends on H's size, not on n.
/// </summary>
public static class GptqBenchmarks
{
    /// <param name="iterations">GPTQ runs timed; one is plenty at 8B shapes, where one run takes seconds.</param>
    public static GptqResult Run(IComputeDevice device, GptqShape shape, int calibrationTokens, int iterations, int seed = 0)
    {
        var hessian = Hessian(device, shape.Columns, calibrationTokens, seed);
        var weights = Array.ConvertAll(RandomValues.Uniform((long)shape.Rows * shape.Columns, 1 / MathF.Sqrt(shape.Columns), seed + 1), w => (double)w);
        var parallelism = device.Parallelism;
        var options = new GptqOptions();

        // The JIT and the thread pool warm up on a small linear rather than on a run that takes seconds.
        Gptq.Quantize(weights.AsSpan(0, 8 * Math.Min(shape.Columns, 256)), 8, Math.Min(shape.Columns, 256), SmallHessian(Math.Min(shape.Columns, 256)), options, parallelism);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            Gptq.Quantize(weights, shape.Rows, shape.Columns, hessian, options, parallelism);
        }

        double ms = clock.Elapsed.TotalMilliseconds / iterations;
        int threads = parallelism.MaxDegreeOfParallelism is > 0 and var t ? t : Environment.ProcessorCount;
        return new GptqResult(shape.Op, shape.Rows, shape.Columns, calibrationTokens, threads, ms);
    }

    private static double[] Hessian(IComputeDevice device, int columns, int tokens, int seed)
    {
        // Xᵀ [columns, tokens]; MatMul(a, b) = a·bᵀ, so MatMul(Xᵀ, Xᵀ) = XᵀX.
        using var transposed = device.UploadNew<float>(RandomValues.Uniform((long)columns * tokens, 1, seed), columns, tokens);
        using var product = device.Allocate(TensorType.Float32, columns, columns);
        device.MatMul(transposed, transposed, null, product);
        var sums = product.ToArray<float>();
        double factor = 2.0 / tokens;
        return Array.ConvertAll(sums, v => v * factor);
    }

    private static double[] SmallHessian(int n)
    {
        var h = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            h[i * n + i] = 1;
        }

        return h;
    }
}
