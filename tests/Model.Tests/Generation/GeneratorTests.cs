using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Tests.Generation;

public sealed class GeneratorTests
{
    [Fact]
    public void BatchedGenerationEqualsOneRequestAtATimeAndStreamsEveryToken()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        var generator = new Generator(model);
        GenerationRequest[] requests =
        [
            new(TestModels.GoldenPrompt, 12, SamplingOptions.Greedy, []),
            new(TestModels.GoldenPrompt[..5], 7, SamplingOptions.Greedy, []),
            new(TestModels.GoldenPrompt[2..], 9, new SamplingOptions(Temperature: 0.9f, TopK: 20, Seed: 77), []),
        ];

        var streamed = requests.Select(_ => new List<int>()).ToArray();
        var together = generator.Generate(requests, (r, token) => streamed[r].Add(token));
        for (int r = 0; r < requests.Length; r++)
        {
            var alone = generator.Generate([requests[r]])[0];
            Assert.Equal(alone.GeneratedIds, together[r].GeneratedIds);
            Assert.Equal(together[r].GeneratedIds, streamed[r]);
            Assert.Equal(requests[r].MaxNewTokens, together[r].GeneratedIds.Count);
            Assert.Equal(FinishReason.Length, together[r].FinishReason);
        }

        Assert.All(model.Layers, layer => Assert.Equal(0, layer.LiveSequences));
    }

    [Fact]
    public void GenerationStopsAtAStopToken()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        var generator = new Generator(model);
        var free = generator.Generate([new GenerationRequest(TestModels.GoldenPrompt, 10, SamplingOptions.Greedy, [])])[0];

        // Declare the fourth greedy token a stop token: generation must end right after producing it.
        int stop = free.GeneratedIds[3];
        int firstStop = free.GeneratedIds.ToList().IndexOf(stop);
        var stopped = generator.Generate([new GenerationRequest(TestModels.GoldenPrompt, 10, SamplingOptions.Greedy, [stop])])[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.GeneratedIds.Take(firstStop + 1), stopped.GeneratedIds);
    }

    [Theory]
    [InlineData(2f, 50, 1f)]
    [InlineData(3f, 0, 0.95f)]
    public void ASeededGenerationContinuedFromItsFirstKTokensWithSeedOffsetKGivesTheSameTokens(float temperature, int topK, float topP)
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        var generator = new Generator(model);
        var sampling = new SamplingOptions(temperature, topK, topP, Seed: 2026);
        var whole = generator.Generate([new GenerationRequest(TestModels.GoldenPrompt, 16, sampling, [])])[0].GeneratedIds;

        // What the SDK sends when a stream breaks after k tokens: the prompt and those tokens, the rest of max_tokens, offset k.
        const int k = 6;
        var rest = generator.Generate([new GenerationRequest([.. TestModels.GoldenPrompt, .. whole.Take(k)], 16 - k, sampling with { SeedOffset = k }, [])])[0].GeneratedIds;
        Assert.Equal(whole.Skip(k), rest);

        // Without the offset the seed's draws start again, and (at these temperatures, which flatten the tiny model's peaked
        // distribution) the tokens part ways.
        var restarted = generator.Generate([new GenerationRequest([.. TestModels.GoldenPrompt, .. whole.Take(k)], 16 - k, sampling, [])])[0].GeneratedIds;
        Assert.NotEqual(whole.Skip(k), restarted);
    }
}
