using System.Diagnostics;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// <see cref="IComputeDevice.SampleTokens"/> on the GPU against the CPU device: the same ids for the same logits and
/// draws (the rule is exact integer arithmetic on both), log-probabilities within float rounding, at the vocabularies of
/// a byte-level test model, GPT-2 and Llama 3, for one row and a decode step's 64, with smooth logits and with logits on
/// a coarse grid (many ties at every threshold, and −∞ masks).
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaSamplingTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const double LogProbTolerance = 1e-4;

    [GpuTheory]
    [InlineData(258, 1, false)]
    [InlineData(258, 64, true)]
    [InlineData(50257, 1, true)]
    [InlineData(50257, 64, false)]
    [InlineData(128256, 1, false)]
    [InlineData(128256, 64, false)]
    [InlineData(128256, 64, true)]
    public void SameTokensAndLogProbabilitiesAsTheCpu(int vocabulary, int rows, bool ties)
    {
        var random = Compare.Fresh(out int seed);
        var logits = Logits(random, rows, vocabulary, ties);
        var sampling = Rows(random, rows);
        var (cpuIds, cpuLogProbs) = Sample(devices.Cpu, logits, sampling);
        var (gpuIds, gpuLogProbs) = Sample(devices.Gpu, logits, sampling);
        for (int r = 0; r < rows; r++)
        {
            Assert.True(cpuIds[r] == gpuIds[r],
                $"V={vocabulary} row {r} {sampling[r]} (seed {seed}, ties {ties}): id {gpuIds[r]} on the GPU, {cpuIds[r]} on the CPU");
            Assert.True(Math.Abs(cpuLogProbs[r] - gpuLogProbs[r]) <= LogProbTolerance * (1 + Math.Abs(cpuLogProbs[r])),
                $"V={vocabulary} row {r} (seed {seed}): log-probability {gpuLogProbs[r]} on the GPU, {cpuLogProbs[r]} on the CPU");
        }

        if (rows == 64)
        {
            string line = $"V={vocabulary} × {rows} rows, ties {ties}: {Time(devices.Gpu, logits, sampling):F3} ms a call on {devices.Gpu.Name}";
            output.WriteLine(line);
            Console.WriteLine("SAMPLING-TIME " + line);
        }
    }

    [GpuFact]
    public void EveryDrawOfOneRowIsTheCpus()
    {
        // One row, many draws over the whole of [0, 1): every inverse-CDF boundary the CPU has, the GPU has.
        var random = Compare.Fresh(out int seed);
        const int vocabulary = 1000, draws = 512;
        var row = Logits(random, 1, vocabulary, ties: true);
        var logits = Enumerable.Repeat(row, draws).SelectMany(l => l).ToArray();
        var sampling = Enumerable.Range(0, draws).Select(i => new SamplingRow(1.1f, i % 3 == 0 ? 30 : 0, i % 2 == 0 ? 0.8f : 1f, (i + 0.5) / draws)).ToArray();
        var (cpuIds, _) = Sample(devices.Cpu, logits, sampling);
        var (gpuIds, _) = Sample(devices.Gpu, logits, sampling);
        output.WriteLine($"seed {seed}");
        Assert.Equal(cpuIds, gpuIds);
    }

    /// <summary>Logits like a model's (a few tokens well above the rest); on a grid of 0.25 with ties and −∞ masks.</summary>
    private static float[] Logits(Random random, int rows, int vocabulary, bool ties)
    {
        var logits = new float[rows * vocabulary];
        for (int i = 0; i < logits.Length; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            double value = 2.5 * normal + (random.NextDouble() < 0.001 ? 8 : 0);
            logits[i] = ties ? (random.NextDouble() < 0.05 ? float.NegativeInfinity : (float)(Math.Round(value * 4) / 4)) : (float)value;
        }

        return logits;
    }

    /// <summary>Greedy, plain temperature, top-k, top-p, both, and the edges (top-k 1, a tiny top-p), by turns.</summary>
    private static SamplingRow[] Rows(Random random, int rows) =>
        Enumerable.Range(0, rows).Select(r => (r % 8) switch
        {
            0 => SamplingRow.Greedy,
            1 => new SamplingRow(0.7f, 0, 1f, random.NextDouble()),
            2 => new SamplingRow(1f, 50, 1f, random.NextDouble()),
            3 => new SamplingRow(1.3f, 0, 0.9f, random.NextDouble()),
            4 => new SamplingRow(0.8f, 40, 0.95f, random.NextDouble()),
            5 => new SamplingRow(1f, 1, 1f, random.NextDouble()),
            6 => new SamplingRow(1f, 0, 0.05f, random.NextDouble()),
            _ => new SamplingRow(2f, 1000, 0.5f, random.NextDouble()),
        }).ToArray();

    private static (int[] Ids, float[] LogProbs) Sample(IComputeDevice device, float[] logits, SamplingRow[] rows)
    {
        using var input = device.UploadNew<float>(logits, rows.Length, logits.Length / rows.Length);
        using var ids = device.Allocate(TensorType.Int32, 1, rows.Length);
        using var logProbs = device.Allocate(TensorType.Float32, 1, rows.Length);
        device.SampleTokens(input, rows, ids, logProbs);
        return (ids.ToArray<int>(), logProbs.ToArray<float>());
    }

    /// <summary>Milliseconds of one SampleTokens call with the logits already on the device (after a warm-up).</summary>
    private static double Time(IComputeDevice device, float[] logits, SamplingRow[] rows)
    {
        const int calls = 20;
        using var input = device.UploadNew<float>(logits, rows.Length, logits.Length / rows.Length);
        using var ids = device.Allocate(TensorType.Int32, 1, rows.Length);
        using var logProbs = device.Allocate(TensorType.Float32, 1, rows.Length);
        device.SampleTokens(input, rows, ids, logProbs);
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            device.SampleTokens(input, rows, ids, logProbs);
        }

        device.Synchronize();
        return clock.Elapsed.TotalMilliseconds / calls;
    }
}
