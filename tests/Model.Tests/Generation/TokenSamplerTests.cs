using OrleansQuant.Model.Generation;

namespace OrleansQuant.Model.Tests.Generation;

public sealed class TokenSamplerTests
{
    private static readonly float[] s_logits = [1f, 3f, 2.5f, -1f, 3f, 0f];

    [Fact]
    public void GreedyTakesTheFirstMaximum() =>
        Assert.Equal(1, new TokenSampler(SamplingOptions.Greedy).Next(s_logits));

    [Fact]
    public void TopKOneIsGreedyWhateverTheTemperature()
    {
        var sampler = new TokenSampler(new SamplingOptions(Temperature: 5f, TopK: 1, Seed: 3));
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, sampler.Next(s_logits)));
    }

    [Fact]
    public void TopKDrawsOnlyFromTheKMostLikely()
    {
        var sampler = new TokenSampler(new SamplingOptions(Temperature: 1f, TopK: 3, Seed: 1));
        var drawn = Enumerable.Range(0, 500).Select(_ => sampler.Next(s_logits)).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 4, 2 }, drawn);
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingTheMass()
    {
        // Softmax of s_logits: p(1) = p(4) ≈ 0.367, p(2) ≈ 0.223 — the first two reach 0.7, so only they remain.
        var sampler = new TokenSampler(new SamplingOptions(Temperature: 1f, TopP: 0.7f, Seed: 9));
        var counts = Enumerable.Range(0, 2000).Select(_ => sampler.Next(s_logits)).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new[] { 1, 4 }, counts.Keys.Order());
        Assert.InRange(counts[1], 850, 1150);
    }

    [Fact]
    public void TemperatureOneMatchesTheSoftmaxFrequencies()
    {
        var sampler = new TokenSampler(new SamplingOptions(Temperature: 1f, Seed: 5));
        var counts = new int[s_logits.Length];
        const int draws = 20000;
        for (int i = 0; i < draws; i++)
        {
            counts[sampler.Next(s_logits)]++;
        }

        double total = s_logits.Sum(l => Math.Exp(l));
        for (int t = 0; t < s_logits.Length; t++)
        {
            Assert.InRange(counts[t] / (double)draws, Math.Exp(s_logits[t]) / total - 0.015, Math.Exp(s_logits[t]) / total + 0.015);
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameTokens()
    {
        var options = new SamplingOptions(Temperature: 0.8f, TopK: 4, TopP: 0.95f, Seed: 1234);
        var first = new TokenSampler(options);
        var second = new TokenSampler(options);
        Assert.Equal(Enumerable.Range(0, 100).Select(_ => first.Next(s_logits)), Enumerable.Range(0, 100).Select(_ => second.Next(s_logits)));
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, "Temperature")]
    [InlineData(1f, -2, 1f, "TopK")]
    [InlineData(1f, 0, 0f, "TopP")]
    [InlineData(1f, 0, 1.5f, "TopP")]
    public void OutOfRangeOptionsNameTheField(float temperature, int topK, float topP, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions(temperature, topK, topP)));
        Assert.Equal(field, error.ParamName);
    }
}
