using OrleansQuant.Contracts;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Silo.Tests.Http;

namespace OrleansQuant.Silo.Tests.Sdk;

/// <summary>The SDK's IProgress&lt;JobEvent&gt; overloads of quantize and re-quantize, on the admin fixture's model (its weights change).</summary>
[Collection(AdminCollection.Name)]
public sealed class SdkProgressTests(AdminFixture fixture)
{
    [Fact]
    public async Task QuantizeWithProgressReportsEveryLayerAndReturnsTheSucceededJob()
    {
        var progress = new Collected();
        int layers = (await fixture.Sdk.StatusAsync("default")).Layers.Count;

        var job = await fixture.Sdk.QuantizeAsync("default", new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24), progress);

        Assert.Equal(("quantize", JobState.Succeeded), (job.Kind, job.State));
        Assert.Equal(Enumerable.Range(0, layers), progress.Events.Where(e => e is { Stage: "quantize", Layer: not null }).Select(e => e.Layer!.Value).Order());
        Assert.Equal("done", progress.Events[^1].Stage);
    }

    [Fact]
    public async Task RequantizeWithProgressReportsTheLayersBuildBeforeItsResult()
    {
        var progress = new Collected();
        string recipe = RecipeWriter.ToYaml(QuantizationRecipe.Default with { SmoothQuant = QuantizationRecipe.Default.SmoothQuant! with { SmoothingStrength = 0.6 } });

        var result = await fixture.Sdk.RequantizeLayerAsync("default", 1, recipe, progress: progress);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(["quantize", "quantize", "done"], progress.Events.Where(e => e.Stage != "heartbeat").Select(e => e.Stage));
        Assert.Equal($"version {result.Version}", progress.Events.Single(e => e is { Stage: "quantize", Done: 1 }).Message);
    }

    /// <summary>Collects on the reporting thread (Progress&lt;T&gt; would post, and could report after the call returned).</summary>
    private sealed class Collected : IProgress<JobEvent>
    {
        public List<JobEvent> Events { get; } = [];

        public void Report(JobEvent value) => Events.Add(value);
    }
}
