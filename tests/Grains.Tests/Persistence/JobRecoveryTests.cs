using Orleans.TestingHost;
using Xunit.Abstractions;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// Jobs that lose a silo holding layers do not fail. A quantization or a save discards what it did, the lost layers
/// are restored from the store at their committed versions, and the job starts over (<c>SiloLossRetry</c>), ending as a
/// run without the fault ends; a first load plans again over the silos there are.
/// </summary>
public sealed class JobRecoveryTests(ITestOutputHelper output)
{
    private static readonly int[] s_prompt = [0, 86, 106, 103];
    private const int MaxTokens = 24;
    private static readonly QuantizeRequest s_quantize = new(Calibration: "self", SampleCount: 6, MaxTokens: 24);

    [Fact]
    public async Task A_quantize_job_that_loses_a_layer_silo_midway_restores_the_layer_starts_over_and_ends_with_the_no_fault_weights()
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        var sdk = cluster.Sdk;

        // The same model quantized without a fault: its per-layer errors and greedy ids are what the faulted job must end with.
        await sdk.LoadAsync("job-reference", "tiny");
        var reference = await ClusterCalls.Quantize(sdk, "job-reference", s_quantize);
        Assert.Equal("done", reference[^1].Event.Stage);
        var expected = await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>("job-reference"), s_prompt, MaxTokens);

        const string name = "job-fault";
        await sdk.LoadAsync(name, "tiny");
        await cluster.MoveCoordinator(name, cluster.Cluster.Primary!);
        var before = await sdk.StatusAsync(name);
        var victim = cluster.Cluster.SecondarySilos.First(s => before.Layers.Any(l => l.Silo == s.SiloAddress.ToParsableString()));
        int held = before.Layers.First(l => l.Silo == victim.SiloAddress.ToParsableString()).Layer;

        // The job's build of one of the victim's layers waits at its first linear; the silo is killed under it. The job
        // is started and watched from the primary silo, where the coordinator is: through the test client, the watch
        // could pass through the victim's gateway and die with it (the SDK does not re-attach a job's watch).
        List<(JobEvent Event, TimeSpan At)> events;
        using (var hold = new HeldLayerJob(name, held, HeldLayerJob.Step.Build))
        {
            var job = Watch(StoreCluster.Factory(cluster.Cluster.Primary!).GetGrain<IModelGrain>(name), s_quantize);
            await hold.Reached.WaitAsync(TimeSpan.FromSeconds(60));
            await cluster.Cluster.KillSiloAsync(victim);
            events = await job.WaitAsync(TimeSpan.FromSeconds(180));
        }

        foreach (var (e, at) in events.Where(e => e.Event.Stage is "restart" or "done" or "failed"))
        {
            output.WriteLine($"{at.TotalSeconds:F1} s: {e.Stage} {e.Done}/{e.Total} {e.Message}");
        }

        Assert.Equal("done", events[^1].Event.Stage);
        var restart = Assert.Single(events, e => e.Event.Stage == "restart").Event;
        Assert.Contains("restored from the store", restart.Message);

        // After the restart every layer was built once more and committed once: version 1, as the reference's.
        var after = await sdk.StatusAsync(name);
        Assert.All(after.Layers, l => Assert.Equal((LayerState.Serving, 1), (l.State, l.Version)));
        Assert.All(after.Layers, l => Assert.NotEqual(victim.SiloAddress.ToParsableString(), l.Silo));

        // The same calibration samples (self-drawn with the same seed) give bit-identical weights: the same per-layer
        // errors after the restart as without a fault, and the same greedy ids.
        Assert.Equal(LayerErrors(reference), LayerErrors(events.SkipWhile(e => e.Event.Stage != "restart").ToList()));
        Assert.Equal(expected, await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>(name), s_prompt, MaxTokens));
    }

    [Fact]
    public async Task A_save_job_that_loses_a_layer_silo_midway_restores_the_layer_starts_over_and_writes_a_checkpoint_that_serves_the_same_ids()
    {
        using var store = new TempDirectory();
        using var saves = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        var sdk = cluster.Sdk;
        const string name = "save-fault";
        await sdk.LoadAsync(name, "tiny");
        Assert.Equal("done", (await ClusterCalls.Quantize(sdk, name, s_quantize))[^1].Event.Stage);
        await cluster.MoveCoordinator(name, cluster.Cluster.Primary!);
        var model = StoreCluster.Factory(cluster.Cluster.Primary!).GetGrain<IModelGrain>(name);
        var expected = await ClusterCalls.Collect(model, s_prompt, MaxTokens);
        var before = await model.GetStatus();
        var victim = cluster.Cluster.SecondarySilos.First(s => before.Layers.Any(l => l.Silo == s.SiloAddress.ToParsableString()));
        int held = before.Layers.First(l => l.Silo == victim.SiloAddress.ToParsableString()).Layer;

        // One of the victim's layers waits before writing its shard; the silo is killed under it.
        string target = Path.Combine(saves.Path, "saved");
        List<(JobEvent Event, TimeSpan At)> events;
        using (var hold = new HeldLayerJob(name, held, HeldLayerJob.Step.WriteShard))
        {
            var job = Watch(model, m => m.StartSave(target));
            await hold.Reached.WaitAsync(TimeSpan.FromSeconds(60));
            await cluster.Cluster.KillSiloAsync(victim);
            events = await job.WaitAsync(TimeSpan.FromSeconds(180));
        }

        foreach (var (e, at) in events.Where(e => e.Event.Stage is "restart" or "done" or "failed"))
        {
            output.WriteLine($"{at.TotalSeconds:F1} s: {e.Stage} {e.Done}/{e.Total} {e.Message}");
        }

        Assert.Equal("done", events[^1].Event.Stage);
        Assert.Single(events, e => e.Event.Stage == "restart");

        // The checkpoint is whole (no staging directory left beside it) and serves what the model served.
        Assert.Equal(["saved"], Directory.GetFileSystemEntries(saves.Path).Select(Path.GetFileName));
        await sdk.LoadAsync("save-reloaded", target);
        Assert.Equal(expected, await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>("save-reloaded"), s_prompt, MaxTokens));
        Assert.Equal(before.Layers.Select(l => l.Version), (await model.GetStatus()).Layers.Select(l => l.Version));
    }

    [Fact]
    public async Task A_first_load_that_loses_a_silo_midway_loads_again_on_the_silos_there_are()
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        var sdk = cluster.Sdk;
        await sdk.LoadAsync("load-reference", "tiny");
        var expected = await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>("load-reference"), s_prompt, MaxTokens);

        // The coordinator is activated on the primary; the first layer to start loading on another silo waits there, and
        // that silo is killed under it.
        const string name = "load-fault";
        await cluster.MoveCoordinator(name, cluster.Cluster.Primary!);
        var model = StoreCluster.Factory(cluster.Cluster.Primary!).GetGrain<IModelGrain>(name);
        var secondaries = cluster.Cluster.SecondarySilos.ToDictionary(s => s.SiloAddress.ToParsableString());
        SiloHandle victim;
        List<(JobEvent Event, TimeSpan At)> events;
        using (var hold = new HeldLayerJob(name, secondaries.Keys.ToHashSet(), HeldLayerJob.Step.Load))
        {
            var job = Watch(model, m => m.StartLoad(new LoadModelRequest("tiny")));
            var (held, silo) = await hold.Reached.WaitAsync(TimeSpan.FromSeconds(60));
            victim = secondaries[silo];
            output.WriteLine($"layer {held} held while loading on {silo}; killing it");
            await cluster.Cluster.KillSiloAsync(victim);
            events = await job.WaitAsync(TimeSpan.FromSeconds(180));
        }

        output.WriteLine($"{events[^1].At.TotalSeconds:F1} s: {events[^1].Event.Stage} {events[^1].Event.Message}");
        Assert.Equal("done", events[^1].Event.Stage);
        var status = await model.GetStatus();
        Assert.All(status.Layers, l => Assert.Equal(LayerState.Loaded, l.State));
        Assert.All(status.Layers, l => Assert.NotEqual(victim.SiloAddress.ToParsableString(), l.Silo));
        Assert.Equal(expected, await ClusterCalls.Collect(model, s_prompt, MaxTokens));
    }

    private static Task<List<(JobEvent Event, TimeSpan At)>> Watch(IModelGrain model, QuantizeRequest request) => Watch(model, m => m.StartQuantize(request));

    private static async Task<List<(JobEvent Event, TimeSpan At)>> Watch(IModelGrain model, Func<IModelGrain, Task<JobInfo>> start)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var job = await start(model);
        var events = new List<(JobEvent, TimeSpan)>();
        await foreach (var e in model.WatchJob(job.Id))
        {
            events.Add((e, clock.Elapsed));
        }

        return events;
    }

    private static double?[] LayerErrors(List<(JobEvent Event, TimeSpan At)> events) =>
        events.Where(e => e.Event.Stage == "quantize" && e.Event.Layer is not null).OrderBy(e => e.Event.Layer).Select(e => e.Event.ErrorAfter).ToArray();
}
