using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests;

/// <summary>
/// One silo confined to a model root and an output root (OrleansQuant:Paths), with the tiny demo model written inside
/// the model root and again outside every root, a calibration file outside, and a link inside pointing outside.
/// </summary>
public sealed class PathRootsFixture : IAsyncLifetime
{
    // Configurators are made by type, per silo: the directories reach them through these.
    private static string? s_modelRoot, s_outputRoot;

    private readonly TempDirectory _temp = new();

    public TestCluster Cluster { get; private set; } = null!;

    public OrleansQuantClient Sdk => new(Cluster.Client);

    public string ModelRoot => Path.Combine(_temp.Path, "models");

    public string OutputRoot => Path.Combine(_temp.Path, "out");

    public string Outside => Path.Combine(_temp.Path, "outside");

    public async Task InitializeAsync()
    {
        DemoModelWriter.Write(DemoModels.Tiny, Path.Combine(ModelRoot, "tiny"));
        DemoModelWriter.Write(DemoModels.Tiny, Path.Combine(Outside, "tiny"));
        Directory.CreateDirectory(OutputRoot);
        File.WriteAllText(Path.Combine(Outside, "calibration.txt"), "the quick brown fox jumps over the lazy dog\n");
        Directory.CreateSymbolicLink(Path.Combine(ModelRoot, "escape"), Path.Combine(Outside, "tiny"));
        (s_modelRoot, s_outputRoot) = (ModelRoot, OutputRoot);

        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _temp.Dispose();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddOrleansQuant(options => options.Devices = "cpu:1");
            silo.Services.Configure<PathRootsOptions>(o =>
            {
                o.ModelRoots = [s_modelRoot!];
                o.OutputRoots = [s_outputRoot!];
            });
        }
    }
}

/// <summary>
/// Paths a client sends are confined on the silo, in the grain, before any file access: escapes by <c>..</c>, by an
/// absolute path or through a symbolic link are refused naming the path and the roots; paths inside work; the grain
/// keeps serving after a refusal.
/// </summary>
public sealed class PathRootsTests(PathRootsFixture fixture) : IClassFixture<PathRootsFixture>
{
    private static readonly int[] s_prompt = [0, 86, 106, 103];

    [Fact]
    public async Task ADotDotPathThatEscapesTheRootIsRefusedNamingThePathAndTheRoot()
    {
        string escape = Path.Combine(fixture.ModelRoot, "..", "outside", "tiny");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Sdk.LoadAsync("dotdot", escape));
        Assert.Contains($"model '{escape}'", error.Message);
        Assert.Contains($"'{fixture.ModelRoot}'", error.Message);
        Assert.Contains("OrleansQuant:Paths:ModelRoots", error.Message);
    }

    [Fact]
    public async Task AnAbsolutePathOutsideEveryRootIsRefused()
    {
        string outside = Path.Combine(fixture.Outside, "tiny");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Sdk.LoadAsync("absolute", outside));
        Assert.Contains($"model '{outside}' is outside the roots this silo allows", error.Message);
        Assert.Contains($"'{fixture.OutputRoot}'", error.Message);
    }

    [Fact]
    public async Task ASymbolicLinkInsideTheRootWhoseTargetIsOutsideIsRefused()
    {
        string link = Path.Combine(fixture.ModelRoot, "escape");
        Assert.True(File.Exists(Path.Combine(link, "config.json")), "the link leads to a loadable model");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Sdk.LoadAsync("link", link));
        Assert.Contains($"model '{link}' (it resolves to '{Path.Combine(fixture.Outside, "tiny")}')", error.Message);
    }

    [Fact]
    public async Task APathInsideTheRootLoadsSavesInsideTheOutputRootAndTheGrainServesAfterRefusals()
    {
        var model = fixture.Sdk.Model("inside");
        var status = await fixture.Sdk.LoadAsync("inside", Path.Combine(fixture.ModelRoot, "tiny"));
        Assert.Equal(Path.Combine(fixture.ModelRoot, "tiny"), status.Directory);
        var before = await ClusterCalls.Collect(model, s_prompt, 6);

        // Refused on the loaded grain: a calibration file outside, saves outside or onto the output root itself.
        var calibration = await Assert.ThrowsAsync<ArgumentException>(() =>
            model.StartQuantize(new QuantizeRequest(Calibration: Path.Combine(fixture.Outside, "calibration.txt"), SampleCount: 2, MaxTokens: 8)));
        Assert.Contains($"calibration file '{Path.Combine(fixture.Outside, "calibration.txt")}'", calibration.Message);
        var save = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Sdk.SaveAsync("inside", Path.Combine(fixture.ModelRoot, "copy")));
        Assert.Contains($"save directory '{Path.Combine(fixture.ModelRoot, "copy")}'", save.Message);
        Assert.Contains("OrleansQuant:Paths:OutputRoots", save.Message);
        var onRoot = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Sdk.SaveAsync("inside", fixture.OutputRoot));
        Assert.Contains($"expected a path inside '{fixture.OutputRoot}'", onRoot.Message);
        Assert.False(Directory.Exists(Path.Combine(fixture.ModelRoot, "copy")));

        // Still healthy: the same tokens as before the refusals, and a save inside the output root lands.
        Assert.Equal(before, await ClusterCalls.Collect(model, s_prompt, 6));
        Assert.Equal(6, before.Count);
        string target = Path.Combine(fixture.OutputRoot, "tiny-copy");
        await fixture.Sdk.SaveAsync("inside", target);
        Assert.True(File.Exists(Path.Combine(target, "config.json")));
        Assert.DoesNotContain((await model.GetStatus()).Jobs, j => j.State == JobState.Failed);
    }
}

/// <summary>The resolver alone: what counts as inside.</summary>
public sealed class PathRootsResolutionTests
{
    [Fact]
    public void ASiblingDirectorySharingTheRootsPrefixIsOutside()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.File("models"));
        Directory.CreateDirectory(temp.File("models-evil"));
        var roots = new PathRoots(Microsoft.Extensions.Options.Options.Create(new PathRootsOptions { ModelRoots = [temp.File("models")] }));

        roots.CheckRead(temp.File("models"), "model");
        roots.CheckRead(Path.Combine(temp.File("models"), "a", "..", "b"), "model");
        var error = Assert.Throws<ArgumentException>(() => roots.CheckRead(temp.File("models-evil"), "model"));
        Assert.Contains($"model '{temp.File("models-evil")}' is outside", error.Message);
    }

    [Fact]
    public void LinksAreFollowedToTheirFinalTargetAndALoopIsRefused()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.File("real"));
        File.CreateSymbolicLink(temp.File("hop2"), temp.File("real"));
        File.CreateSymbolicLink(temp.File("hop1"), "hop2");
        Assert.Equal(Path.Combine(temp.File("real"), "new", "x"), PathRoots.Resolve(Path.Combine(temp.File("hop1"), "new", "x")));

        File.CreateSymbolicLink(temp.File("loop-a"), temp.File("loop-b"));
        File.CreateSymbolicLink(temp.File("loop-b"), temp.File("loop-a"));
        var error = Assert.Throws<ArgumentException>(() => PathRoots.Resolve(temp.File("loop-a")));
        Assert.Contains("more than 40 symbolic links", error.Message);
    }

    [Fact]
    public void NoRootsMeansUnconfinedAndModelNamesAreNotPaths()
    {
        var open = new PathRoots(Microsoft.Extensions.Options.Options.Create(new PathRootsOptions()));
        open.CheckRead("/etc", "model");
        open.CheckWrite("/tmp/anything", "save directory");

        var confined = new PathRoots(Microsoft.Extensions.Options.Options.Create(new PathRootsOptions { ModelRoots = ["/nonexistent-root"] }));
        confined.CheckModel("tiny");
        confined.CheckModel("synthetic:tiny");
        confined.CheckCalibration("self");
        Assert.Throws<ArgumentException>(() => confined.CheckModel("/etc"));
        var save = Assert.Throws<ArgumentException>(() => confined.CheckWrite("/nonexistent-root/out", "save directory"));
        Assert.Contains("allows no writes (OrleansQuant:Paths:OutputRoots is empty)", save.Message);
    }
}
