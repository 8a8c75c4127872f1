using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Grains.Tests.Devices;

/// <summary>
/// A layer's quantization runs on as many threads as its device was given, and gets the same bits however many that
/// is: every parallel item of the CPU device's kernels owns its outputs.
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

        // Block 128 < columns, so the lazy batch update between blocks runs too.
        var options = new GptqOptions(BlockSize: 128, ActOrder: actOrder);

        // Statistics, GPTQ and its loss all on one device, with the threads it was given.
        (double[] Hessian, sbyte[] Values, float[] Scales, double Loss) Run(int? threads)
        {
            using var device = new CpuDevice(maxThreads: threads);
            using var statistics = new LinearInputStatistics(device, columns);
            using (var activations = device.UploadNew<float>(inputs, tokens, columns))
            {
                statistics.Accumulate(activations);
            }

            using var w = device.UploadNew<double>(weights, rows, columns);
            using var h = statistics.Hessian();
            using var consumed = statistics.Hessian();
            using var q = Gptq.Quantize(device, w, consumed, options);
            return (h.ToArray<double>(), q.Values.ToArray<sbyte>(), q.Scales.ToArray<float>(), W8A8Error.WeightLoss(device, w, q, h));
        }

        var one = Run(1);
        var all = Run(null);
        Assert.Equal(one.Hessian, all.Hessian);
        Assert.Equal(one.Values, all.Values);
        Assert.Equal(one.Scales, all.Scales);
        Assert.Equal(one.Loss, all.Loss);
    }
}
