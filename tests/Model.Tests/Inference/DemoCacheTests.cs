using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Tests.Inference;

public sealed class DemoCacheTests
{
    [Fact]
    public async Task WritersRacingForTheSameDemoModelAllGetOneWholeCopy()
    {
        string root = Path.Combine(Path.GetTempPath(), "oq-cache-race-" + Guid.NewGuid().ToString("N"));
        try
        {
            var directories = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DemoModelWriter.EnsureCached(DemoModels.Tiny, root))));
            Assert.Single(directories.Distinct());
            Assert.Single(Directory.GetDirectories(root));
            using var device = new CpuDevice();
            using var model = CausalLanguageModel.Load(directories[0], device);
            Assert.Equal(4, model.Layers.Count);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
