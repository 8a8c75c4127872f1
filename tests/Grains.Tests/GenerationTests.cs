using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Gpu;
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
        var sdk = fixture.Sdk;
        await sdk.LoadAsync("generate-fp", "demo");
        var cluster = await Task.WhenAll(s_prompts.Select(p => ClusterCalls.Collect(sdk.Model("generate-fp"), p, 10)));

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("demo"), device);
        var expected = new Generator(local).Generate(s_prompts.Select(p => new GenerationRequest(p, 10, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray());
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i].GeneratedIds, cluster[i]);
        }
    }

    [Fact]
    public async Task OnOneDeviceTheEmbeddingAndTheLastHiddenStateCrossAsHandlesAndNoneIsLeftBehind()
    {
        // One device for every layer: where it is the coordinator's head device, the embedding goes to layer 0 and the
        // last layer's output to the head as parked device tensors; elsewhere as values. Either way the ids are the
        // single-process engine's and every parked activation is taken.
        var stores = fixture.Cluster.Silos.OfType<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<ActivationStore>()).ToArray();
        var before = stores.Select(s => s.Parked).ToArray();
        var sdk = fixture.Sdk;
        await sdk.LoadAsync("generate-one-device", "tiny", maxDevices: 1);
        int[][] prompts = [[0, 86, 106, 90], [0, 87]];
        var cluster = await Task.WhenAll(prompts.Select(p => ClusterCalls.Collect(sdk.Model("generate-one-device"), p, 6)));

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("tiny"), device);
        var expected = new Generator(local).Generate(prompts.Select(p => new GenerationRequest(p, 6, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray());
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].GeneratedIds, cluster[i]);
        }

        // Earlier tests' cancelled steps may still hold parked tensors until they expire; this one adds none.
        for (int i = 0; i < stores.Length; i++)
        {
            Assert.True(stores[i].Parked <= before[i], $"silo {i} holds {stores[i].Parked} parked activations, {before[i]} before the generations");
        }
    }

    [Fact]
    public async Task W8A8GreedyIdsThroughTheClusterEqualTheSingleProcessEngine()
    {
        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("demo"), device);
        var samples = Model.Calibration.SelfCalibration.Generate(local, samples: 8, tokens: 32, seed: 42);
        new ModelQuantizer(local, QuantizationRecipe.Default).Run(samples);

        var sdk = fixture.Sdk;
        await sdk.LoadAsync("generate-w8a8", "demo");
        var events = await ClusterCalls.Quantize(sdk, "generate-w8a8", new QuantizeRequest(Samples: samples));
        Assert.Equal("done", events[^1].Event.Stage);
        Assert.Equal(8, events.Count(e => e.Event.Stage == "quantize"));
        Assert.All((await sdk.StatusAsync("generate-w8a8")).Layers, l => Assert.Equal(LayerState.Serving, l.State));

        var cluster = await Task.WhenAll(s_prompts.Select(p => ClusterCalls.Collect(sdk.Model("generate-w8a8"), p, 10)));
        var expected = new Generator(local).Generate(s_prompts.Select(p => new GenerationRequest(p, 10, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray());
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i].GeneratedIds, cluster[i]);
        }
    }

    [Fact]
    public async Task EightRequestsInFlightKeepSeveralLayersBusyAtOnce()
    {
        var sdk = fixture.Sdk;
        await sdk.LoadAsync("generate-concurrency", "demo");
        LayerActivity.ResetPeak();
        var requests = Enumerable.Range(0, 8).Select(i => ClusterCalls.Collect(sdk.Model("generate-concurrency"), [464 + i, 3616, 286], 12)).ToArray();
        await Task.WhenAll(requests);
        Assert.All(requests, r => Assert.Equal(12, r.Result.Count));
        // One lane would keep one layer busy at a time. Lanes at different stages keep several busy — as many as the
        // process's cores allow, since the silos' CPU devices share one compute budget (2 cores in CI).
        int expected = Math.Min(3, CpuComputeBudget.Process.Cores);
        Assert.True(LayerActivity.Peak >= expected, $"at most {LayerActivity.Peak} layer grains ran at the same moment; expected ≥ {expected}");
    }

    [Fact]
    public async Task OnOneDeviceANewSequenceBeyondTheKvCacheBudgetIsRefusedAndTheSequencesBatchedBeforeItGoOn()
    {
        // One device, so one lane: the refused request would have shared its steps. The cache is paged in blocks of
        // 16 positions; each running sequence holds 1 to 3 blocks (≤ 43 positions) while the third asks, however far
        // it has got. A budget of 6 blocks (2 × 48 positions, 2 × 12 KiB per layer) takes both; the third, whose
        // 70-token prompt needs 5 blocks beside their ≥ 2, does not fit.
        var sdk = fixture.Sdk;
        const string name = "kv-budget";
        long budget = 2 * KvCacheSize.Bytes(48, 2 * 16);
        var status = await sdk.LoadAsync(name, "tiny", kvCacheBudgetBytes: budget, maxDevices: 1);
        Assert.Single(status.Layers.Select(l => (l.Silo, l.Device)).Distinct());
        var model = sdk.Model(name);
        var first = model.Generate(new GenerateRequest(PromptIds: [0, 86, 106], MaxTokens: 40)).GetAsyncEnumerator();
        var second = model.Generate(new GenerateRequest(PromptIds: [0, 87], MaxTokens: 40)).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.True(await second.MoveNextAsync());

        int[] longPrompt = [0, .. Enumerable.Range(0, 69).Select(i => 'a' + 2 + i % 26)];
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ClusterCalls.Collect(model, longPrompt, 4));
        Assert.Contains($"over its budget of {budget}", refused.Message);

        foreach (var stream in new[] { first, second })
        {
            int count = 1;
            while (await stream.MoveNextAsync())
            {
                count++;
            }

            await stream.DisposeAsync();
            Assert.Equal(40, count);
        }

        // Once they finished, there is room again.
        Assert.Equal(4, (await ClusterCalls.Collect(model, [0, 90], 4)).Count);
    }
}
