namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// <see cref="IComputeDevice.TokenLogProbs"/> on the GPU against the CPU device: the same top ids in the same order (the
/// order is exact: logit descending, lower id first), log-probabilities within float rounding, at the vocabularies of a
/// byte-level test model, GPT-2 and Llama 3, for one row and a prefill's 300, with smooth logits and with logits on a
/// coarse grid (many ties, and −∞ masks); and a target that is the argmax equal to its top value.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaLogProbsTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    private const double LogProbTolerance = 1e-4;

    [GpuTheory]
    [InlineData(258, 1, 5, false)]
    [InlineData(258, 300, 20, true)]
    [InlineData(50257, 1, 1, true)]
    [InlineData(50257, 300, 5, false)]
    [InlineData(128256, 1, 20, false)]
    [InlineData(128256, 64, 20, true)]
    public void SameTopTokensAndLogProbabilitiesAsTheCpu(int vocabulary, int rows, int k, bool ties)
    {
        var random = Compare.Fresh(out int seed);
        var logits = new float[rows * vocabulary];
        for (int i = 0; i < logits.Length; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            double value = 2.5 * normal + (random.NextDouble() < 0.001 ? 8 : 0);
            logits[i] = ties ? (random.NextDouble() < 0.05 ? float.NegativeInfinity : (float)(Math.Round(value * 4) / 4)) : (float)value;
        }

        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(vocabulary)).ToArray();
        var cpu = Score(devices.Cpu, logits, targets, k);
        var gpu = Score(devices.Gpu, logits, targets, k);
        Assert.True(cpu.Ids.SequenceEqual(gpu.Ids), $"V={vocabulary} rows {rows} k {k} (seed {seed}, ties {ties}): the top ids differ");
        for (int i = 0; i < rows; i++)
        {
            Assert.True(Close(cpu.Targets[i], gpu.Targets[i]), $"row {i} (seed {seed}): target {gpu.Targets[i]} on the GPU, {cpu.Targets[i]} on the CPU");
        }

        for (int i = 0; i < rows * k; i++)
        {
            Assert.True(Close(cpu.Top[i], gpu.Top[i]), $"slot {i} (seed {seed}): top {gpu.Top[i]} on the GPU, {cpu.Top[i]} on the CPU");
        }
    }

    [GpuFact]
    public void AnArgmaxTargetEqualsItsTopValueAndEmptySlotsAreMinusOne()
    {
        float[] logits = [1f, 3f, 2.5f, float.NaN, 3f, 0f];
        var (targets, ids, top) = Score(devices.Gpu, logits, [1], k: 7);
        Assert.Equal([1, 4, 2, 0, 5, -1, -1], ids);
        Assert.Equal(top[0], targets[0]);
        Assert.Equal(float.NegativeInfinity, top[6]);
    }

    private static bool Close(float a, float b) => a == b || Math.Abs(a - b) <= LogProbTolerance * (1 + Math.Abs(a));

    private static (float[] Targets, int[] Ids, float[] Top) Score(IComputeDevice device, float[] logits, int[] targets, int k)
    {
        using var input = device.UploadNew<float>(logits, targets.Length, logits.Length / targets.Length);
        using var wanted = device.UploadVector<int>(targets);
        using var scores = device.Allocate(TensorType.Float32, 1, targets.Length);
        using var ids = device.Allocate(TensorType.Int32, targets.Length, k);
        using var top = device.Allocate(TensorType.Float32, targets.Length, k);
        device.TokenLogProbs(input, wanted, scores, ids, top);
        return (scores.ToArray<float>(), ids.ToArray<int>(), top.ToArray<float>());
    }
}
