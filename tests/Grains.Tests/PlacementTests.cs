using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class PlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task DemoLayersSpreadOverAllSixDevicesInContiguousRanges()
    {
        // Two loads at once: the second joins the first's job instead of loading every layer twice.
        var model = fixture.Grains.GetGrain<IModelGrain>("placement-demo");
        var jobs = await Task.WhenAll(model.StartLoad(new LoadModelRequest("demo")), model.StartLoad(new LoadModelRequest("demo")));
        Assert.Equal(jobs[0].Id, jobs[1].Id);
        var status = await fixture.Sdk.LoadAsync("placement-demo", "demo");
        Assert.Single(status.Jobs, j => j.Kind == "load");
        Assert.Equal(JobState.Succeeded, status.Jobs[0].State);

        Assert.Equal(3, status.Devices.Count);
        Assert.All(status.Devices, silo => Assert.Equal(2, silo.Devices.Count));
        Assert.All(status.Devices.SelectMany(s => s.Devices), d => Assert.Equal("cpu", d.Kind));

        Assert.Equal(8, status.Layers.Count);
        var stages = status.Layers.Select(l => (l.Silo, l.Device)).ToArray();
        Assert.Equal(6, stages.Distinct().Count());
        // Contiguous: once the pipeline leaves a device it never comes back to it.
        var visited = new List<(string, int)>();
        foreach (var stage in stages)
        {
            if (visited.Count == 0 || visited[^1] != stage)
            {
                Assert.DoesNotContain(stage, visited);
                visited.Add(stage);
            }
        }

        Assert.All(status.Layers, l => Assert.Equal(LayerState.Loaded, l.State));
        Assert.Equal(Enumerable.Range(0, 8), status.Layers.Select(l => l.Layer));
    }
}
