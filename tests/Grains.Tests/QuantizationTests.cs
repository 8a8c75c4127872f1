using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class QuantizationTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData(ClusterQuantizationMode.LayerParallel)]
    [InlineData(ClusterQuantizationMode.Sequential)]
    public async Task ClusterQuantizationIsBitIdenticalToTheSingleProcessQuantizer(ClusterQuantizationMode mode)
    {
        // The cluster draws its own calibration samples ("self"), through its own pipeline, with the same seeds.
        var model = fixture.Grains.GetGrain<IModelGrain>($"bits-{mode}");
        await model.Load(new LoadModelRequest("tiny-qwen2"));
        var events = new List<QuantizationEvent>();
        await foreach (var e in model.Quantize(new QuantizeRequest(Calibration: "self", SampleCount: 10, MaxTokens: 40, Seed: 42, Mode: mode)))
        {
            events.Add(e);
        }

        Assert.Equal("done", events[^1].Stage);
        Assert.Equal(4, events.Count(e => e.Stage == "quantize" && e.ErrorAfter < e.ErrorBefore));

        using var device = new CpuDevice();
        using var local = CausalLanguageModel.Load(ModelDirectory.Resolve("tiny-qwen2"), device);
        var samples = Model.Calibration.SelfCalibration.Generate(local, samples: 10, tokens: 40, seed: 42);
        new ModelQuantizer(local, QuantizationRecipe.Default, mode == ClusterQuantizationMode.Sequential ? QuantizationMode.Sequential : QuantizationMode.LayerParallel)
            .Run(samples);

        for (int layer = 0; layer < local.Layers.Count; layer++)
        {
            var expected = LayerTensors.Layer(layer, local.Layers[layer].Weights).ToDictionary(t => t.Name);
            var actual = await fixture.Grains.GetGrain<ILayerGrain>($"bits-{mode}/{layer}").ExportTensors();
            Assert.Equal(expected.Keys.Order(), actual.Select(t => t.Name).Order());
            foreach (var tensor in actual)
            {
                Assert.Equal(expected[tensor.Name].Shape, tensor.Shape);
                Assert.Equal(expected[tensor.Name].Int8, tensor.Int8);
                Assert.Equal(expected[tensor.Name].Float32, tensor.Float32);
            }

            Assert.Equal(14, actual.Count(t => t.Int8 is not null || t.Name.EndsWith(".weight_scale", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task ALayerRequantizedDuringAStreamChangesOnlyItsVersionAndAFailureKeepsTheOldOne()
    {
        var model = fixture.Grains.GetGrain<IModelGrain>("requantize");
        await model.Load(new LoadModelRequest("tiny"));
        await foreach (var _ in model.Quantize(new QuantizeRequest(Calibration: "self", SampleCount: 8, MaxTokens: 32)))
        {
        }

        var before = (await model.GetStatus()).Layers;
        Assert.All(before, l => Assert.Equal(1, l.Version));
        string other = RecipeWriter.ToYaml(QuantizationRecipe.Default with { SmoothQuant = QuantizationRecipe.Default.SmoothQuant! with { SmoothingStrength = 0.5 } });

        // Re-quantize layer 2 once a streaming generation is under way; the stream must run to its end.
        var tokens = new List<GeneratedToken>();
        RequantizeResult? swapped = null;
        await foreach (var token in model.Generate(new GenerateRequest(PromptIds: [0, 86, 106, 103], MaxTokens: 60)))
        {
            tokens.Add(token);
            if (tokens.Count == 5)
            {
                swapped = await model.RequantizeLayer(2, other);
            }
        }

        Assert.Equal(60, tokens.Count);
        Assert.Equal("length", tokens[^1].FinishReason);
        Assert.NotNull(swapped);
        Assert.True(swapped.Succeeded, swapped.Error);
        Assert.Equal(2, swapped.Version);
        var after = (await model.GetStatus()).Layers;
        Assert.Equal([1, 1, 2, 1], after.Select(l => l.Version));
        Assert.Contains("smoothing_strength: 0.5", after[2].Recipe);

        // An injected GPTQ failure in layer 3: reported, and the old version keeps serving.
        SwitchableFaultInjector.FailModel = "requantize";
        SwitchableFaultInjector.FailLayer = 3;
        try
        {
            var failed = await model.RequantizeLayer(3, other);
            Assert.False(failed.Succeeded);
            Assert.Equal(1, failed.Version);
            Assert.Contains("injected GPTQ failure in model.layers.3.mlp.up_proj", failed.Error);
        }
        finally
        {
            SwitchableFaultInjector.FailModel = null;
            SwitchableFaultInjector.FailLayer = -1;
        }

        var status = (await model.GetStatus()).Layers;
        Assert.Equal([1, 1, 2, 1], status.Select(l => l.Version));
        Assert.Equal(LayerState.Serving, status[3].State);
        Assert.Contains("injected GPTQ failure", status[3].Error);
        Assert.Equal(8, (await GenerationTests.Collect(model, [0, 86, 106], 8)).Count);
    }

    [Fact]
    public async Task AFailureInOneLayerLeavesEveryLayerAsItWas()
    {
        var model = fixture.Grains.GetGrain<IModelGrain>("all-or-nothing");
        await model.Load(new LoadModelRequest("tiny"));
        var before = await GenerationTests.Collect(model, [0, 86, 106], 8);
        SwitchableFaultInjector.FailModel = "all-or-nothing";
        SwitchableFaultInjector.FailLayer = 1;
        var events = new List<QuantizationEvent>();
        try
        {
            await foreach (var e in model.Quantize(new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24)))
            {
                events.Add(e);
            }
        }
        finally
        {
            SwitchableFaultInjector.FailModel = null;
            SwitchableFaultInjector.FailLayer = -1;
        }

        Assert.Equal("failed in 1 layer(s); no layer changed", events[^1].Stage);
        Assert.Contains(events, e => e.Layer == 1 && e.Stage.Contains("injected GPTQ failure"));
        var status = (await model.GetStatus()).Layers;
        Assert.All(status, l => Assert.Equal(0, l.Version));
        Assert.All(status, l => Assert.Equal(LayerState.Loaded, l.State));
        Assert.Equal(before, await GenerationTests.Collect(model, [0, 86, 106], 8));
    }

    [Fact]
    public async Task BadRequestsGetClearErrorsAndTheModelKeepsServing()
    {
        var model = fixture.Grains.GetGrain<IModelGrain>("bad-requests");
        await model.Load(new LoadModelRequest("tiny"));
        var recipe = await Assert.ThrowsAnyAsync<Exception>(() => model.RequantizeLayer(0, "GPTQModifier:\n  dampening_frac: -1\n"));
        Assert.Contains("dampening_frac", recipe.Message);
        var layer = await Assert.ThrowsAnyAsync<Exception>(() => model.RequantizeLayer(9, ""));
        Assert.Contains("layer 9 does not exist", layer.Message);
        var prompt = await Assert.ThrowsAnyAsync<Exception>(() => GenerationTests.Collect(model, [0, 999], 4));
        Assert.Contains("prompt ids must lie in [0, 258)", prompt.Message);
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Grains.GetGrain<IModelGrain>("missing").Load(new LoadModelRequest("/no/such/model")));
        Assert.Contains("no such directory", missing.Message);
        Assert.Equal(4, (await GenerationTests.Collect(model, [0, 86], 4)).Count);
    }
}
