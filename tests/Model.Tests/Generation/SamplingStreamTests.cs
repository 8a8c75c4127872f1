using OrleansQuant.Gpu;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Model.Tests.Generation;

/// <summary>The host half of sampling: validated options and a sequence's own seeded draws (the device picks tokens).</summary>
public sealed class SamplingStreamTests
{
    // SplitMix64's first outputs for seed 1234567, the test vector published with the reference C implementation
    // (Vigna, prng.di.unimi.it/splitmix64.c) and reproduced by its ports.
    private static readonly ulong[] s_splitMix64Of1234567 =
        [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];

    [Fact]
    public void GreedyStepsAreGreedyRowsAndTakeNoDraw() =>
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(SamplingRow.Greedy, new SamplingStream(SamplingOptions.Greedy).Row(i)));

    [Fact]
    public void TheDrawsAreSplitMix64sPublishedOutputsAsUniformDoubles()
    {
        var stream = new SamplingStream(new SamplingOptions(Temperature: 0.8f, TopK: 4, TopP: 0.95f, Seed: 1234567));
        for (int i = 0; i < s_splitMix64Of1234567.Length; i++)
        {
            Assert.Equal(s_splitMix64Of1234567[i], SamplingStream.SplitMix64(1234567, i));
            Assert.Equal(new SamplingRow(0.8f, 4, 0.95f, (s_splitMix64Of1234567[i] >> 11) / 9007199254740992.0), stream.Row(i));
        }
    }

    [Fact]
    public void ADrawDependsOnItsIndexAloneSoAStepRunAgainDrawsTheSame()
    {
        var stream = new SamplingStream(new SamplingOptions(Temperature: 1f, Seed: 7));
        var inOrder = Enumerable.Range(0, 20).Select(stream.Row).ToArray();
        var backwards = Enumerable.Range(0, 20).Reverse().Select(stream.Row).Reverse().ToArray();
        Assert.Equal(inOrder, backwards);
        Assert.Equal(inOrder[3], stream.Row(3));
    }

    [Fact]
    public void ASeedOffsetOfKDrawsWhatTheUnshiftedStreamDrawsFromTokenKOn()
    {
        var options = new SamplingOptions(Temperature: 0.7f, TopP: 0.9f, Seed: -42);
        var whole = new SamplingStream(options);
        var rest = new SamplingStream(options with { SeedOffset = 5 });
        Assert.Equal(Enumerable.Range(5, 10).Select(whole.Row), Enumerable.Range(0, 10).Select(rest.Row));
    }

    [Fact]
    public void TheSameSeedGivesTheSameRowsAndAnotherSeedOrNoSeedOthers()
    {
        var options = new SamplingOptions(Temperature: 1f, Seed: 7);
        var rows = Enumerable.Range(0, 50).Select(new SamplingStream(options).Row).ToArray();
        Assert.Equal(rows, Enumerable.Range(0, 50).Select(new SamplingStream(options).Row));
        Assert.NotEqual(rows, Enumerable.Range(0, 50).Select(new SamplingStream(options with { Seed = 8 }).Row));
        Assert.NotEqual(
            Enumerable.Range(0, 50).Select(new SamplingStream(options with { Seed = null }).Row),
            Enumerable.Range(0, 50).Select(new SamplingStream(options with { Seed = null }).Row));
        Assert.All(rows, row => row.Validate(0));
    }

    [Fact]
    public void TheDrawsAreUniformOnZeroToOne()
    {
        var stream = new SamplingStream(new SamplingOptions(Temperature: 1f, Seed: 3));
        var draws = Enumerable.Range(0, 100_000).Select(i => stream.Row(i).Draw).ToArray();
        Assert.All(draws, d => Assert.InRange(d, 0.0, Math.BitDecrement(1.0)));

        // Mean 1/2 and variance 1/12 within several standard errors; each tenth of [0, 1) holds about a tenth.
        Assert.InRange(draws.Average(), 0.5 - 0.005, 0.5 + 0.005);
        Assert.InRange(draws.Select(d => (d - 0.5) * (d - 0.5)).Average(), 1.0 / 12 - 0.002, 1.0 / 12 + 0.002);
        Assert.All(draws.GroupBy(d => (int)(d * 10)), bin => Assert.InRange(bin.Count(), 9_000, 11_000));
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, null, 0, "Temperature")]
    [InlineData(1f, -2, 1f, null, 0, "TopK")]
    [InlineData(1f, 0, 0f, null, 0, "TopP")]
    [InlineData(1f, 0, 1.5f, null, 0, "TopP")]
    [InlineData(1f, 0, 1f, 3, -1, "SeedOffset")]
    [InlineData(1f, 0, 1f, null, 4, "SeedOffset")]
    public void OutOfRangeOptionsNameTheField(float temperature, int topK, float topP, int? seed, int seedOffset, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingStream(new SamplingOptions(temperature, topK, topP, seed, seedOffset)));
        Assert.Equal(field, error.ParamName);
    }
}
