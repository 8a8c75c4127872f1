using System.Diagnostics;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// <see cref="Gptq.Quantize"/> (Frantar et al. 2023) of one linear with llm-compressor's defaults (block 128, dampening
/// 0.01, no act-order), on the device, from a device Hessian. H = 2/n·XᵀX of n random activation rows is made on the
/// device (one <c>MatMul</c> of Xᵀ with itself, widened to double) and rebuilt before each run, since GPTQ consumes it;
/// neither is part of the time: GPTQ's cost depends on H's size, not on n.
/// </summary>
public static class GptqBenchmarks
{
    /// <param name="iterations">GPTQ runs timed; one is plenty at 8B shapes, where one run takes seconds.</param>
    public static GptqResult Run(IComputeDevice device, GptqShape shape, int calibrationTokens, int iterations, int seed = 0)
    {
        var options = new GptqOptions();

        // The JIT, the thread pool and the device's kernels warm up on a small linear rather than on a run that takes seconds.
        int small = Math.Min(shape.Columns, 256), warmTokens = Math.Min(calibrationTokens, 512);
        using (var warmGram = Gram(device, small, warmTokens, seed))
        using (var warmWeights = Weights(device, 8, small, seed + 1))
        {
            TimeOne(device, warmWeights, warmGram, warmTokens, options);
        }

        using var gram = Gram(device, shape.Columns, calibrationTokens, seed);
        using var weights = Weights(device, shape.Rows, shape.Columns, seed + 1);
        var elapsed = TimeSpan.Zero;
        for (int i = 0; i < iterations; i++)
        {
            elapsed += TimeOne(device, weights, gram, calibrationTokens, options);
        }

        double ms = elapsed.TotalMilliseconds / iterations;
        int threads = device.Parallelism.MaxDegreeOfParallelism is > 0 and var t ? t : Environment.ProcessorCount;
        return new GptqResult(shape.Op, shape.Rows, shape.Columns, calibrationTokens, threads, ms);
    }

    /// <summary>One GPTQ run on a fresh H, timed from the call until the device has finished it.</summary>
    private static TimeSpan TimeOne(IComputeDevice device, DeviceTensor weights, DeviceTensor gram, int tokens, GptqOptions options)
    {
        using var hessian = device.Allocate(TensorType.Float64, gram.Rows, gram.Columns);
        device.SymmetricFromUpper(gram, 2.0 / tokens, null, hessian);
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        using var quantized = Gptq.Quantize(device, weights, hessian, options);
        device.Synchronize();
        return clock.Elapsed;
    }

    /// <summary>XᵀX in double on the device: Xᵀ <c>[columns, tokens]</c>; MatMul(a, b) = a·bᵀ, so MatMul(Xᵀ, Xᵀ) = XᵀX.</summary>
    private static DeviceTensor Gram(IComputeDevice device, int columns, int tokens, int seed)
    {
        using var transposed = device.UploadNew<float>(RandomValues.Uniform((long)columns * tokens, 1, seed), columns, tokens);
        using var product = device.Allocate(TensorType.Float32, columns, columns);
        device.MatMul(transposed, transposed, null, product);
        return DeviceCopies.Widen(device, product);
    }

    private static DeviceTensor Weights(IComputeDevice device, int rows, int columns, int seed)
    {
        using var floats = device.UploadNew<float>(RandomValues.Uniform((long)rows * columns, 1 / MathF.Sqrt(columns), seed), rows, columns);
        return DeviceCopies.Widen(device, floats);
    }
}
