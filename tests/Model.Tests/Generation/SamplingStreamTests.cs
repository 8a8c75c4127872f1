using OrleansQuant.Gpu;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Model.Tests.Generation;

/// <summary>The host half of sampling: validated options and a sequence's own seeded draws (the device picks tokens).</summary>
public sealed class SamplingStreamTests
{
    [Fact]
    public void GreedyStepsAreGreedyRowsAndTakeNoDraw() =>
        Assert.All(Enumerable.Range(0, 3), _ => Assert.Equal(SamplingRow.Greedy, new SamplingStream(SamplingOptions.Greedy).Next()));

    [Fact]
    public void EachStepCarriesTheOptionsAndTheNextDrawOfTheSeededStream()
    {
        var stream = new SamplingStream(new SamplingOptions(Temperature: 0.8f, TopK: 4, TopP: 0.95f, Seed: 1234));
        var expected = new Random(1234);
        for (int step = 0; step < 20; step++)
        {
            Assert.Equal(new SamplingRow(0.8f, 4, 0.95f, expected.NextDouble()), stream.Next());
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameRowsAndAnotherSeedOthers()
    {
        var options = new SamplingOptions(Temperature: 1f, Seed: 7);
        var first = new SamplingStream(options);
        var second = new SamplingStream(options);
        var other = new SamplingStream(options with { Seed = 8 });
        var rows = Enumerable.Range(0, 50).Select(_ => first.Next()).ToArray();
        Assert.Equal(rows, Enumerable.Range(0, 50).Select(_ => second.Next()));
        Assert.NotEqual(rows, Enumerable.Range(0, 50).Select(_ => other.Next()));
        Assert.All(rows, row => row.Validate(0));
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, "Temperature")]
    [InlineData(1f, -2, 1f, "TopK")]
    [InlineData(1f, 0, 0f, "TopP")]
    [InlineData(1f, 0, 1.5f, "TopP")]
    public void OutOfRangeOptionsNameTheField(float temperature, int topK, float topP, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingStream(new SamplingOptions(temperature, topK, topP)));
        Assert.Equal(field, error.ParamName);
    }
}
