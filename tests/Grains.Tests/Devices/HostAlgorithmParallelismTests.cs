using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Grains.Tests.Devices;

/// <summary>
/// A layer's host-side quantization runs on as many threads as its device was given, and gets the same bits however
/// many that is: every parallel item owns its outputs.
/// </summary>
public sealed class HostAlgorithmParallelismTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GptqIsBitIdenticalOnOneThreadAndOnAll(bool actOrder)
    {
        // 544 columns: wide enough that the Cholesky factorization fans its rows out too.
        const int rows = 48, columns = 544, tokens = 300;
        var random = new Random(7);
        var inputs = Enumerable.Range(0, tokens * columns).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var weights = Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() - 0.5).ToArray();

        // The statistics accumulate on the device, with the threads it was given.
        double[] Hessian(int? threads)
        {
            using var device = new CpuDevice(maxThreads: threads);
            using var statistics = new LinearInputStatistics(device, columns);
            using var activations = device.UploadNew<float>(inputs, tokens, columns);
            statistics.Accumulate(activations);
            return statistics.Hessian();
        }

        var one = new ParallelOptions { MaxDegreeOfParallelism = 1 };
        double[] h1 = Hessian(1), hAll = Hessian(null);
        Assert.Equal(h1, hAll);

        // Block 128 < columns, so the lazy batch update between blocks runs too.
        var options = new GptqOptions(BlockSize: 128, ActOrder: actOrder);
        var q1 = Gptq.Quantize(weights, rows, columns, h1, options, one);
        var qAll = Gptq.Quantize(weights, rows, columns, hAll, options);
        Assert.Equal(q1.Values, qAll.Values);
        Assert.Equal(q1.Scales, qAll.Scales);
        Assert.Equal(W8A8Error.WeightLoss(weights, q1, h1, one), W8A8Error.WeightLoss(weights, qAll, hAll), 12);
    }
}
