using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class GenerationTests(ClusterFixture fixture)
{
    private static readonly int[][] s_prompts = [[464, 3616, 286, 1204, 318], [7454, 2402, 257, 640], [818, 37166, 11, 9966, 24572, 3199]];

    [Fact]
    public async Task GreedyIdsThroughTheClusterEqualTheSingleProcessEngine()
    {
        var model = fixture.Grains.GetGrain<IModelGrain>("generate-fp");
        await model.Load(new LoadModelRequest("demo"));
        var cluster = await Task.WhenAll(s_prompts.Select(p => Collect(model, p, 10)));

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("demo"), device);
        var expected = new Generator(local).Generate(s_prompts.Select(p => new GenerationRequest(p, 10, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray());
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i].GeneratedIds, cluster[i]);
        }
    }

    [Fact]
    public async Task W8A8GreedyIdsThroughTheClusterEqualTheSingleProcessEngine()
    {
        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("demo"), device);
        var samples = SelfCalibrationSamples(local);
        new ModelQuantizer(local, QuantizationRecipe.Default).Run(samples);

        var model = fixture.Grains.GetGrain<IModelGrain>("generate-w8a8");
        await model.Load(new LoadModelRequest("demo"));
        var events = new List<QuantizationEvent>();
        await foreach (var e in model.Quantize(new QuantizeRequest(Samples: samples)))
        {
            events.Add(e);
        }

        Assert.Equal("done", events[^1].Stage);
        Assert.Equal(8, events.Count(e => e.Stage == "quantize"));
        Assert.All((await model.GetStatus()).Layers, l => Assert.Equal(LayerState.Serving, l.State));

        var cluster = await Task.WhenAll(s_prompts.Select(p => Collect(model, p, 10)));
        var expected = new Generator(local).Generate(s_prompts.Select(p => new GenerationRequest(p, 10, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray());
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i].GeneratedIds, cluster[i]);
        }
    }

    [Fact]
    public async Task EightRequestsInFlightKeepAtLeastThreeLayersBusyAtOnce()
    {
        var model = fixture.Grains.GetGrain<IModelGrain>("generate-concurrency");
        await model.Load(new LoadModelRequest("demo"));
        LayerActivity.ResetPeak();
        var requests = Enumerable.Range(0, 8).Select(i => Collect(model, [464 + i, 3616, 286], 12)).ToArray();
        await Task.WhenAll(requests);
        Assert.All(requests, r => Assert.Equal(12, r.Result.Count));
        Assert.True(LayerActivity.Peak >= 3, $"at most {LayerActivity.Peak} layer grains ran at the same moment; expected ≥ 3");
    }

    [Fact]
    public async Task ANewSequenceBeyondTheKvCacheBudgetIsRefusedAndTheOthersGoOn()
    {
        // A budget of one byte: the first sequence fits in an empty cache, no second one does while it lives.
        var model = fixture.Grains.GetGrain<IModelGrain>("kv-budget");
        await model.Load(new LoadModelRequest("tiny", KvCacheBudgetBytes: 1));
        var first = model.Generate(new GenerateRequest(PromptIds: [0, 86, 106], MaxTokens: 40)).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => Collect(model, [0, 90], 4));
        Assert.Contains("over its budget of 1", refused.Message);

        int count = 1;
        while (await first.MoveNextAsync())
        {
            count++;
        }
        await first.DisposeAsync();
        Assert.Equal(40, count);
        // Also a regression check: a request that arrives while a lane frees its finished sequences must be served.
        Assert.Equal(4, (await Collect(model, [0, 90], 4)).Count);
    }

    internal static IReadOnlyList<int[]> SelfCalibrationSamples(CausalLanguageModel model) =>
        Model.Calibration.SelfCalibration.Generate(model, samples: 8, tokens: 32, seed: 42);

    internal static async Task<List<int>> Collect(IModelGrain model, int[] prompt, int maxTokens)
    {
        var ids = new List<int>();
        await foreach (var token in model.Generate(new GenerateRequest(PromptIds: prompt, MaxTokens: maxTokens)))
        {
            ids.Add(token.TokenId);
        }

        return ids;
    }
}
