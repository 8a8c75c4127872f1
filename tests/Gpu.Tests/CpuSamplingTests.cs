using System.Runtime.CompilerServices;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// <see cref="IComputeDevice.SampleTokens"/> on the CPU device, the rule's plain statement: greedy ties, temperature,
/// top-k and top-p edges, the distribution of many draws against the softmax, and log-probabilities against a host
/// log-softmax in double.
/// </summary>
public sealed class CpuSamplingTests
{
    // Softmax: p(1) = p(4) ≈ 0.356, p(2) ≈ 0.216, p(0) ≈ 0.048, p(5) ≈ 0.018, p(3) ≈ 0.0065.
    private static readonly float[] s_logits = [1f, 3f, 2.5f, -1f, 3f, 0f];

    private readonly CpuDevice _device = new();

    [Fact]
    public void GreedyIsTheLowestIdOfTheMaximumWhateverTheFilterAndDraw()
    {
        var rows = new[] { SamplingRow.Greedy, new SamplingRow(0f, 2, 0.3f, 0.999) };
        var (ids, logProbs) = Sample([.. s_logits, .. s_logits], rows);
        Assert.Equal([1, 1], ids);
        Assert.Equal(LogSoftmax(s_logits)[1], logProbs[0], 1e-6);
        Assert.Equal(logProbs[0], logProbs[1]);
    }

    [Fact]
    public void GreedyOfNegativeInfinitiesIsTheFirst()
    {
        var (ids, _) = Sample([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity], [SamplingRow.Greedy]);
        Assert.Equal(0, ids[0]);
    }

    [Fact]
    public void TopKOneIsGreedyWhateverTheTemperatureAndTheDraw()
    {
        foreach (double draw in Draws(200))
        {
            Assert.Equal(1, SampleOne(s_logits, new SamplingRow(5f, 1, 1f, draw)));
        }
    }

    [Fact]
    public void TopKDrawsOnlyFromTheKMostLikely()
    {
        var counts = Counts(s_logits, draw => new SamplingRow(1f, 3, 1f, draw), 3000);
        Assert.Equal([1, 2, 4], counts.Keys.Order());
    }

    [Fact]
    public void TopKBreaksATieAtItsBoundaryByTheLowerId()
    {
        // Ids 2, 3 and 4 tie below id 1: k = 2 keeps id 1 and the lowest of the tie, id 2.
        float[] logits = [0f, 2f, 1f, 1f, 1f];
        var counts = Counts(logits, draw => new SamplingRow(1f, 2, 1f, draw), 3000);
        Assert.Equal([1, 2], counts.Keys.Order());
    }

    [Fact]
    public void TopKBeyondTheVocabularyKeepsEverything()
    {
        var all = Counts(s_logits, draw => new SamplingRow(1f, 0, 1f, draw), 4000);
        var beyond = Counts(s_logits, draw => new SamplingRow(1f, 1000, 1f, draw), 4000);
        Assert.Equal(all, beyond);
        Assert.Equal(6, all.Count);
    }

    [Fact]
    public void TopPKeepsTheShortestPrefixReachingTheMass()
    {
        // p(1) + p(4) ≈ 0.712 ≥ 0.7: only they remain, in equal shares.
        var counts = Counts(s_logits, draw => new SamplingRow(1f, 0, 0.7f, draw), 2000);
        Assert.Equal([1, 4], counts.Keys.Order());
        Assert.InRange(counts[1], 999, 1001);

        // Just past p(1) + p(4), id 2 joins; just below p(1), id 1 alone (the lower id of the tie goes first).
        Assert.Equal([1, 2, 4], Counts(s_logits, draw => new SamplingRow(1f, 0, 0.74f, draw), 2000).Keys.Order());
        Assert.Equal([1], Counts(s_logits, draw => new SamplingRow(1f, 0, 0.3f, draw), 2000).Keys.Order());
    }

    [Fact]
    public void TopPAppliesToTheTopKSurvivors()
    {
        // Top-k 3 leaves 1, 4, 2 (mass ≈ 0.928 of the whole); 0.75 of that is ≈ 0.696 < p(1) + p(4): id 2 is cut.
        var counts = Counts(s_logits, draw => new SamplingRow(1f, 3, 0.75f, draw), 2000);
        Assert.Equal([1, 4], counts.Keys.Order());
        // Without top-k, 0.75 of the whole is more than p(1) + p(4): id 2 stays.
        Assert.Equal([1, 2, 4], Counts(s_logits, draw => new SamplingRow(1f, 0, 0.75f, draw), 2000).Keys.Order());
    }

    [Fact]
    public void TheDrawWalksTheKeptTokensFromTheMostLikelyDown()
    {
        // Candidate order 1, 4 (a tie: lower id first), 2, 0, 5, 3: u = 0 takes the first, u just below 1 the last kept.
        double last = Math.BitDecrement(1.0);
        Assert.Equal(1, SampleOne(s_logits, new SamplingRow(1f, 0, 1f, 0.0)));
        Assert.Equal(3, SampleOne(s_logits, new SamplingRow(1f, 0, 1f, last)));
        Assert.Equal(4, SampleOne(s_logits, new SamplingRow(1f, 2, 1f, last)));
        Assert.Equal(2, SampleOne(s_logits, new SamplingRow(1f, 3, 1f, last)));
        Assert.Equal(4, SampleOne(s_logits, new SamplingRow(1f, 0, 0.7f, last)));
        // p(1) ≈ 0.356: draws on either side of it fall either side of the first boundary.
        Assert.Equal(1, SampleOne(s_logits, new SamplingRow(1f, 0, 1f, 0.35)));
        Assert.Equal(4, SampleOne(s_logits, new SamplingRow(1f, 0, 1f, 0.36)));
    }

    [Fact]
    public void NegativeInfinityIsNeverDrawn()
    {
        float[] logits = [float.NegativeInfinity, 0f, float.NegativeInfinity, 0f, float.NegativeInfinity];
        var counts = Counts(logits, draw => new SamplingRow(2f, 0, 1f, draw), 1000);
        Assert.Equal([1, 3], counts.Keys.Order());
        Assert.Equal(500, counts[1]);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(2f)]
    public void EvenlySpreadDrawsFollowTheTemperedSoftmax(float temperature)
    {
        // Draws (i + ½)/N walk the inverse CDF evenly: each token's count is N·p to within one draw and the
        // weights' 2⁻³¹ resolution.
        const int draws = 100_000;
        var counts = Counts(s_logits, draw => new SamplingRow(temperature, 0, 1f, draw), draws);
        var expected = Softmax(s_logits.Select(l => l / temperature).ToArray());
        for (int t = 0; t < s_logits.Length; t++)
        {
            Assert.InRange(counts.GetValueOrDefault(t), draws * expected[t] - 2, draws * expected[t] + 2);
        }
    }

    [Fact]
    public void SeededDrawsMatchTheSoftmaxWithinSamplingError()
    {
        // Uniform draws, one per row, as a sequence's SamplingStream gives them: every frequency within 4.5 standard errors.
        var random = new Random(5);
        float[] logits = Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i * 0.7) * 3f).ToArray();
        const int draws = 20_000;
        var rows = Enumerable.Range(0, draws).Select(_ => new SamplingRow(1f, 0, 1f, random.NextDouble())).ToArray();
        var (ids, _) = Sample(Enumerable.Repeat(logits, draws).SelectMany(l => l).ToArray(), rows);
        var expected = Softmax(logits);
        for (int t = 0; t < logits.Length; t++)
        {
            double frequency = ids.Count(id => id == t) / (double)draws;
            double error = 4.5 * Math.Sqrt(expected[t] * (1 - expected[t]) / draws) + 1e-9;
            Assert.InRange(frequency, expected[t] - error, expected[t] + error);
        }
    }

    [Fact]
    public void LogProbabilitiesAreTheUnscaledLogSoftmaxOfTheChosenToken()
    {
        var random = new Random(17);
        const int vocabulary = 50257, count = 8;
        var logits = new float[count * vocabulary];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)(random.NextDouble() * 20 - 10);
        }

        var rows = Enumerable.Range(0, count).Select(r => new SamplingRow(r % 2 == 0 ? 0.7f : 1.5f, r % 4 == 1 ? 40 : 0, r % 3 == 2 ? 0.9f : 1f, random.NextDouble())).ToArray();
        var (ids, logProbs) = Sample(logits, rows);
        for (int r = 0; r < count; r++)
        {
            var expected = LogSoftmax(logits.AsSpan(r * vocabulary, vocabulary).ToArray());
            Assert.Equal(expected[ids[r]], logProbs[r], 1e-5);
        }
    }

    [Fact]
    public void EachRowIsSampledAsIfAlone()
    {
        var random = new Random(3);
        const int vocabulary = 1000, count = 16;
        var logits = Enumerable.Range(0, count * vocabulary).Select(_ => (float)(random.NextDouble() * 8)).ToArray();
        var rows = Enumerable.Range(0, count).Select(r => new SamplingRow(0.1f * r, r % 5 * 7, 1f - 0.05f * r, random.NextDouble())).ToArray();
        var (together, _) = Sample(logits, rows);
        for (int r = 0; r < count; r++)
        {
            Assert.Equal(together[r], SampleOne(logits.AsSpan(r * vocabulary, vocabulary).ToArray(), rows[r]));
        }
    }

    [Fact]
    public void WeightsAreTheExponentialScaledTo2To31()
    {
        Assert.Equal(1u << 31, CpuDevice.SamplingWeight(3f, 3f, 0.5f));
        Assert.Equal(0u, CpuDevice.SamplingWeight(float.NegativeInfinity, 3f, 1f));
        Assert.Equal(0u, CpuDevice.SamplingWeight(-40f, 0f, 1f));
        // Within float rounding of z·log₂e (|t|·2⁻²⁴ in the exponent) and the polynomial's 1.2e-7.
        for (float z = -22f; z <= 0f; z += 0.01f)
        {
            double exact = Math.Exp(z) * 2147483648.0, relative = 2e-7 + Math.Abs(z) * 1.5 * Math.Pow(2, -24);
            Assert.InRange(CpuDevice.SamplingWeight(z, 0f, 1f), exact * (1 - relative) - 1, exact * (1 + relative));
        }
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, 0.5, "Temperature")]
    [InlineData(float.PositiveInfinity, 0, 1f, 0.5, "Temperature")]
    [InlineData(1f, -2, 1f, 0.5, "TopK")]
    [InlineData(1f, 0, 0f, 0.5, "TopP")]
    [InlineData(1f, 0, 1.5f, 0.5, "TopP")]
    [InlineData(1f, 0, 1f, 1.0, "Draw")]
    [InlineData(1f, 0, 1f, -0.1, "Draw")]
    public void OutOfRangeParametersNameTheField(float temperature, int topK, float topP, double draw, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Sample(s_logits, [new SamplingRow(temperature, topK, topP, draw)]));
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void ARowCountOtherThanTheLogitsRowsIsRefused()
    {
        using var logits = _device.UploadNew<float>(s_logits, 1, s_logits.Length);
        using var ids = _device.Allocate(TensorType.Int32, 1, 2);
        using var logProbs = _device.Allocate(TensorType.Float32, 1, 2);
        Assert.Throws<ArgumentException>(() => _device.SampleTokens(logits, [SamplingRow.Greedy, SamplingRow.Greedy], ids, logProbs));
    }

    [Fact]
    public void SamplingRowHasTheLayoutTheKernelsRead() => Assert.Equal(24, Unsafe.SizeOf<SamplingRow>());

    private (int[] Ids, float[] LogProbs) Sample(float[] logits, SamplingRow[] rows)
    {
        using var input = _device.UploadNew<float>(logits, rows.Length, logits.Length / rows.Length);
        using var ids = _device.Allocate(TensorType.Int32, 1, rows.Length);
        using var logProbs = _device.Allocate(TensorType.Float32, 1, rows.Length);
        _device.SampleTokens(input, rows, ids, logProbs);
        return (ids.ToArray<int>(), logProbs.ToArray<float>());
    }

    private int SampleOne(float[] logits, SamplingRow row) => Sample(logits, [row]).Ids[0];

    /// <summary>How often each token is drawn over <paramref name="draws"/> evenly spread draws (i + ½)/N, in one call.</summary>
    private Dictionary<int, int> Counts(float[] logits, Func<double, SamplingRow> row, int draws)
    {
        var rows = Draws(draws).Select(row).ToArray();
        var (ids, _) = Sample(Enumerable.Repeat(logits, draws).SelectMany(l => l).ToArray(), rows);
        return ids.GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
    }

    private static IEnumerable<double> Draws(int count) => Enumerable.Range(0, count).Select(i => (i + 0.5) / count);

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static double[] LogSoftmax(float[] logits)
    {
        double max = logits.Max();
        double log = Math.Log(logits.Sum(l => Math.Exp(l - max)));
        return logits.Select(l => l - max - log).ToArray();
    }
}
