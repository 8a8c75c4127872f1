using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class QuantizationTests(ClusterFixture fixture)
{
    private static readonly int[] s_prompt = [0, 86, 106, 103];

    [Theory]
    [InlineData(ClusterQuantizationMode.LayerParallel)]
    [InlineData(ClusterQuantizationMode.Sequential)]
    public async Task ClusterQuantizationIsBitIdenticalToTheSingleProcessQuantizer(ClusterQuantizationMode mode)
    {
        // The cluster draws its own calibration samples ("self"), through its own pipeline, with the same seeds.
        string name = $"bits-{mode}";
        var sdk = fixture.Sdk;
        await sdk.LoadAsync(name, "tiny-qwen2");
        var events = (await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 10, MaxTokens: 40, Seed: 42, Mode: mode)))
            .Select(e => e.Event).ToArray();
        Assert.Equal("done", events[^1].Stage);
        Assert.Equal(4, events.Count(e => e.Stage == "quantize" && e.ErrorAfter < e.ErrorBefore));

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("tiny-qwen2"), device);
        var samples = SelfCalibration.Generate(local, samples: 10, tokens: 40, seed: 42);
        new ModelQuantizer(local, QuantizationRecipe.Default, mode == ClusterQuantizationMode.Sequential ? QuantizationMode.Sequential : QuantizationMode.LayerParallel)
            .Run(samples);

        // The layers write their own shards; the saved model holds exactly the single-process int8 weights and scales.
        using var saved = new TempDirectory();
        await sdk.SaveAsync(name, saved.Path);
        using var reloaded = CausalLanguageModel.Load(saved.Path, device);
        for (int layer = 0; layer < local.Layers.Count; layer++)
        {
            var expected = LayerTensors.Layer(layer, local.Layers[layer].Weights).ToDictionary(t => t.Name);
            var actual = LayerTensors.Layer(layer, reloaded.Layers[layer].Weights).ToArray();
            Assert.Equal(expected.Keys.Order(), actual.Select(t => t.Name).Order());
            foreach (var tensor in actual)
            {
                Assert.Equal(expected[tensor.Name].Shape, tensor.Shape);
                Assert.Equal(expected[tensor.Name].Int8, tensor.Int8);
                Assert.Equal(expected[tensor.Name].Float32, tensor.Float32);
            }

            Assert.Equal(14, actual.Count(t => t.Int8 is not null || t.Name.EndsWith(".weight_scale", StringComparison.Ordinal)));
        }

        // And serves the same greedy continuation.
        var greedy = new Generator(local).Generate([new GenerationRequest(s_prompt, 12, SamplingOptions.Greedy, local.Config.EosTokenIds)])[0];
        Assert.Equal(greedy.GeneratedIds, await ClusterCalls.Collect(sdk.Model(name), s_prompt, 12));
    }

    [Fact]
    public async Task ALayerRequantizedDuringAStreamServesBothVersionsInThatStreamAndAFailureKeepsTheOldOne()
    {
        const string name = "requantize";
        var sdk = fixture.Sdk;
        var model = sdk.Model(name);
        await sdk.LoadAsync(name, "tiny");
        await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 8, MaxTokens: 32));
        Assert.All((await sdk.StatusAsync(name)).Layers, l => Assert.Equal(1, l.Version));
        string other = RecipeWriter.ToYaml(QuantizationRecipe.Default with { SmoothQuant = QuantizationRecipe.Default.SmoothQuant! with { SmoothingStrength = 0.5 } });

        // A stream long enough to outlive the re-quantization: layer 2 goes from version 1 to 2 between two of its tokens.
        var tokens = new List<GeneratedToken>();
        Task<RequantizeResult>? swap = null;
        await foreach (var token in model.Generate(new GenerateRequest(PromptIds: s_prompt, MaxTokens: 2000)))
        {
            tokens.Add(token);
            if (tokens.Count == 5)
            {
                swap = sdk.RequantizeLayerAsync(name, 2, other);
            }

            if (token.LayerVersions![2] == 2 && tokens.Count(t => t.LayerVersions![2] == 2) >= 5)
            {
                break;
            }
        }

        Assert.NotNull(swap);
        var swapped = await swap;
        Assert.True(swapped.Succeeded, swapped.Error);
        Assert.Equal(2, swapped.Version);
        Assert.Null(tokens[^1].FinishReason);
        int first = tokens.FindIndex(t => t.LayerVersions![2] == 2);
        Assert.True(first >= 5, $"the first token of version 2 came at {first}");
        Assert.All(tokens.Take(first), t => Assert.Equal([1, 1, 1, 1], t.LayerVersions!));
        Assert.All(tokens.Skip(first), t => Assert.Equal([1, 1, 2, 1], t.LayerVersions!));
        Assert.Equal(Enumerable.Range(0, tokens.Count), tokens.Select(t => t.Index));

        var after = (await sdk.StatusAsync(name)).Layers;
        Assert.Equal([1, 1, 2, 1], after.Select(l => l.Version));
        Assert.Contains("smoothing_strength: 0.5", after[2].Recipe);

        // An injected GPTQ failure in layer 3: reported, and the old version keeps serving.
        using (TestFaultInjector.Fail(name, 3))
        {
            var failed = await sdk.RequantizeLayerAsync(name, 3, other);
            Assert.False(failed.Succeeded);
            Assert.Equal(1, failed.Version);
            Assert.Contains("layer 3: injected GPTQ failure in model.layers.3.mlp.up_proj", failed.Error);
        }

        var status = (await sdk.StatusAsync(name)).Layers;
        Assert.Equal([1, 1, 2, 1], status.Select(l => l.Version));
        Assert.Equal(LayerState.Serving, status[3].State);
        Assert.Contains("injected GPTQ failure", status[3].Error);
        Assert.Equal(8, (await ClusterCalls.Collect(model, [0, 86, 106], 8)).Count);
    }

    [Theory]
    [InlineData(ClusterQuantizationMode.LayerParallel)]
    [InlineData(ClusterQuantizationMode.Sequential)]
    public async Task AFailureInOneLayerLeavesEveryLayerAsItWas(ClusterQuantizationMode mode)
    {
        string name = $"all-or-nothing-{mode}";
        var sdk = fixture.Sdk;
        await sdk.LoadAsync(name, "tiny");
        var before = await ClusterCalls.Collect(sdk.Model(name), [0, 86, 106], 8);
        List<(JobEvent Event, TimeSpan At)> events;
        using (TestFaultInjector.Fail(name, 2))
        {
            events = await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24, Mode: mode));
        }

        Assert.Equal("failed", events[^1].Event.Stage);
        Assert.Contains("layer 2: injected GPTQ failure in model.layers.2.mlp.up_proj", events[^1].Event.Message);
        if (mode == ClusterQuantizationMode.Sequential)
        {
            // Layers 0 and 1 had been built (and their outputs carried on) before layer 2 failed: they were discarded too.
            Assert.Equal([0, 1], events.Where(e => e.Event.Stage == "quantize").Select(e => e.Event.Layer!.Value));
        }

        await AssertServesAsBefore(name, JobState.Failed, before);
    }

    [Fact]
    public async Task CancellingAQuantizationHalfwayLeavesEveryLayerServingItsOldVersion()
    {
        const string name = "cancel";
        var sdk = fixture.Sdk;
        await sdk.LoadAsync(name, "tiny");
        var before = await ClusterCalls.Collect(sdk.Model(name), [0, 86, 106], 8);

        using var slow = TestFaultInjector.Delay(name, 2, TimeSpan.FromMinutes(10));
        var job = await sdk.Model(name).StartQuantize(new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24));
        var events = new List<JobEvent>();
        int built = 0;
        Task? cancelling = null;
        await foreach (var e in sdk.WatchAsync(name, job.Id))
        {
            events.Add(e);
            cancelling ??= CancelHalfway();
            if (e.Stage == "quantize")
            {
                Volatile.Write(ref built, e.Done);
            }
        }

        await cancelling!;
        Assert.Equal("cancelled", events[^1].Stage);
        Assert.Equal(job.Id, (await sdk.StatusAsync(name)).Jobs[^1].Id);
        await AssertServesAsBefore(name, JobState.Cancelled, before);

        // Stop once a layer has built and layer 2 cannot (it is held for 10 minutes), or 20 s into the job without one:
        // on one core every layer shares one device's build queue, and when layer 2 is first in it no layer builds (and
        // no quantize progress is reported) until the hold ends.
        async Task CancelHalfway()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Volatile.Read(ref built) < 1 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            await sdk.CancelAsync(name, job.Id);
        }
    }

    /// <summary>The last job ended as <paramref name="ended"/>, and every layer serves its full-precision version 0 as before.</summary>
    private async Task AssertServesAsBefore(string name, JobState ended, List<int> before)
    {
        var status = await fixture.Sdk.StatusAsync(name);
        Assert.Equal(ended, status.Jobs[^1].State);
        Assert.All(status.Layers, l => Assert.Equal(0, l.Version));
        Assert.All(status.Layers, l => Assert.Equal(LayerState.Loaded, l.State));
        Assert.Equal(before, await ClusterCalls.Collect(fixture.Sdk.Model(name), [0, 86, 106], 8));
    }

    [Fact]
    public async Task ALayerSlowedBySixtySecondsSendsHeartbeatsAndNothingTimesOut()
    {
        // Orleans' response timeout is 30 s: a build of 60 s must not be one call.
        const string name = "slow";
        var sdk = fixture.Sdk;
        await sdk.LoadAsync(name, "tiny");
        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("tiny"), device);
        var samples = SelfCalibration.Generate(local, samples: 6, tokens: 24, seed: 5);
        new ModelQuantizer(local, QuantizationRecipe.Default).Run(samples);

        List<(JobEvent Event, TimeSpan At)> events;
        using (TestFaultInjector.Delay(name, 1, TimeSpan.FromSeconds(60)))
        {
            events = await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Samples: samples));
        }

        Assert.Equal("done", events[^1].Event.Stage);
        var progress = events.Where(e => e.Event.Stage != "heartbeat").ToArray();
        var longestSilence = progress.Zip(progress.Skip(1), (a, b) => b.At - a.At).Max();
        Assert.True(longestSilence >= TimeSpan.FromSeconds(55), $"the slow layer took only {longestSilence}");
        var longestGap = events.Zip(events.Skip(1), (a, b) => b.At - a.At).Max();
        Assert.True(longestGap <= TimeSpan.FromSeconds(5), $"{longestGap} passed without a heartbeat");
        Assert.True(events.Count(e => e.Event.Stage == "heartbeat") >= 20);

        var greedy = new Generator(local).Generate([new GenerationRequest(s_prompt, 12, SamplingOptions.Greedy, local.Config.EosTokenIds)])[0];
        Assert.Equal(greedy.GeneratedIds, await ClusterCalls.Collect(sdk.Model(name), s_prompt, 12));
    }

    [Fact]
    public async Task BadRequestsGetClearErrorsAndTheModelKeepsServing()
    {
        const string name = "bad-requests";
        var sdk = fixture.Sdk;
        var model = sdk.Model(name);
        await sdk.LoadAsync(name, "tiny");
        var recipe = await Assert.ThrowsAnyAsync<Exception>(() => model.StartRequantize(0, "GPTQModifier:\n  dampening_frac: -1\n"));
        Assert.Contains("dampening_frac", recipe.Message);
        var layer = await Assert.ThrowsAnyAsync<Exception>(() => model.StartRequantize(9, ""));
        Assert.Contains("layer 9 does not exist", layer.Message);
        var prompt = await Assert.ThrowsAnyAsync<Exception>(() => ClusterCalls.Collect(model, [0, 999], 4));
        Assert.Contains("prompt ids must lie in [0, 258)", prompt.Message);
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => sdk.Model("missing").StartLoad(new LoadModelRequest("/no/such/model")));
        Assert.Contains("no such directory", missing.Message);
        var unknownJob = await Assert.ThrowsAnyAsync<Exception>(() => model.GetJob("quantize-99"));
        Assert.Contains("no job 'quantize-99'", unknownJob.Message);
        var sameDirectory = await Assert.ThrowsAnyAsync<Exception>(() => model.StartSave(ModelDirectory.Resolve("tiny")));
        Assert.Contains("is the model's own directory", sameDirectory.Message);
        Assert.Equal(4, (await ClusterCalls.Collect(model, [0, 86], 4)).Count);
    }
}
