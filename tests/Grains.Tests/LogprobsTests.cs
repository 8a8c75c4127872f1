using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Tests;

/// <summary>
/// Prompt and token log-probabilities through the cluster's pipeline equal the single-process model's forward pass over
/// the same ids (log-softmax in double of its logits): with the model across devices (the last stage returns the scored
/// rows as values after the sampled ones) and on one device (the head scores a parked tensor's rows), in one batch
/// beside a generation that asks for nothing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LogprobsTests(ClusterFixture fixture)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("logprobs-demo", "demo", null)]
    [InlineData("logprobs-one-device", "tiny", 1)]
    public async Task PromptAndTokenLogProbabilitiesThroughTheClusterAreTheSingleProcessModels(string name, string directory, int? maxDevices)
    {
        await fixture.Sdk.LoadAsync(name, directory, maxDevices: maxDevices);
        int[] prompt = [0, 86, 106, 90, 87, 99];
        var scored = Collect(fixture.Sdk.Model(name).Generate(new GenerateRequest(PromptIds: prompt, MaxTokens: 2, Logprobs: 3, PromptLogprobs: true)));
        var plain = Collect(fixture.Sdk.Model(name).Generate(new GenerateRequest(PromptIds: [0, 87, 88], MaxTokens: 3)));
        var tokens = await scored;
        var others = await plain;

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve(directory), device);
        int[] sequence = [.. prompt, tokens[0].TokenId];
        var expected = LogSoftmax(local, sequence);

        var positions = tokens[0].PromptLogprobs!;
        Assert.Equal(prompt, positions.Select(p => p.TokenId));
        Assert.Null(positions[0].Logprob);
        Assert.Empty(positions[0].TopLogprobs);
        for (int p = 1; p < prompt.Length; p++)
        {
            Assert.Equal(expected[p - 1][prompt[p]], positions[p].Logprob!.Value, Tolerance);
            AssertTop(expected[p - 1], positions[p].TopLogprobs, 3);
        }

        // The first generated token is scored on the prompt's last row, with its top three.
        Assert.Equal(expected[prompt.Length - 1][tokens[0].TokenId], tokens[0].Logprob!.Value, Tolerance);
        AssertTop(expected[prompt.Length - 1], tokens[0].TopLogprobs!, 3);
        Assert.Equal(tokens[0].TokenId, tokens[0].TopLogprobs![0].TokenId);
        Assert.Equal(tokens[0].Logprob, tokens[0].TopLogprobs![0].Logprob);
        Assert.Null(tokens[1].PromptLogprobs);
        Assert.Equal(expected[prompt.Length][tokens[1].TokenId], tokens[1].Logprob!.Value, Tolerance);

        // A request that asks for nothing gets no top tokens and no prompt scores, only each token's log-probability.
        Assert.All(others, t => Assert.Null(t.TopLogprobs));
        Assert.All(others, t => Assert.Null(t.PromptLogprobs));
        Assert.All(others, t => Assert.True(t.Logprob <= 0f));
    }

    private static void AssertTop(double[] expected, IReadOnlyList<TokenLogprob> top, int count)
    {
        var order = Enumerable.Range(0, expected.Length).OrderByDescending(v => expected[v]).ThenBy(v => v).Take(count).ToArray();
        Assert.Equal(order, top.Select(t => t.TokenId));
        for (int j = 0; j < count; j++)
        {
            Assert.Equal(expected[order[j]], top[j].Logprob, Tolerance);
        }
    }

    /// <summary>Row t: log P(· | tokens[..t]) from the single-process forward pass, as the perplexity evaluation computes it.</summary>
    private static double[][] LogSoftmax(CausalLanguageModel model, int[] tokens)
    {
        const long id = long.MaxValue - 7;
        int vocab = model.Config.VocabSize;
        float[] logits;
        try
        {
            logits = model.Forward(tokens, ForwardBatch.Single(id, tokens.Length), allPositions: true);
        }
        finally
        {
            model.EndSequence(id);
        }

        return Enumerable.Range(0, tokens.Length).Select(t =>
        {
            var row = logits.AsSpan(t * vocab, vocab).ToArray();
            double max = row.Max();
            double log = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
            return row.Select(x => x - log).ToArray();
        }).ToArray();
    }

    private static async Task<List<GeneratedToken>> Collect(IAsyncEnumerable<GeneratedToken> stream)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (var token in stream)
        {
            tokens.Add(token);
        }

        return tokens;
    }
}
