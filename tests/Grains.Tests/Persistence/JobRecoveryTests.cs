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
        int held = LayerOnASecondary(cluster, await sdk.StatusAsync(name));

        // The job's build of that layer waits at its first linear; its silo is killed under it.
        var (events, killed) = await KillUnderHeldStep(cluster, new HeldLayerJob(name, held, HeldLayerJob.Step.Build),
            StoreCluster.Factory(cluster.Cluster.Primary!).GetGrain<IModelGrain>(name), m => m.StartQuantize(s_quantize));

        Assert.Equal("done", events[^1].Event.Stage);
        var restart = Assert.Single(events, e => e.Event.Stage == "restart").Event;
        Assert.Contains("restored from the store", restart.Message);

        // After the restart every layer was built once more and committed once: version 1, as the reference's.
        var after = await sdk.StatusAsync(name);
        Assert.All(after.Layers, l => Assert.Equal((LayerState.Serving, 1), (l.State, l.Version)));
        Assert.All(after.Layers, l => Assert.NotEqual(killed, l.Silo));

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
        int held = LayerOnASecondary(cluster, before);

        // That layer waits before writing its shard; its silo is killed under it.
        string target = Path.Combine(saves.Path, "saved");
        var (events, _) = await KillUnderHeldStep(cluster, new HeldLayerJob(name, held, HeldLayerJob.Step.WriteShard), model, m => m.StartSave(target));

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
        var secondaries = cluster.Cluster.SecondarySilos.Select(s => s.SiloAddress.ToParsableString()).ToHashSet();
        var (events, killed) = await KillUnderHeldStep(cluster, new HeldLayerJob(name, secondaries, HeldLayerJob.Step.Load), model,
            m => m.StartLoad(new LoadModelRequest("tiny")));

        Assert.Equal("done", events[^1].Event.Stage);
        var status = await model.GetStatus();
        Assert.All(status.Layers, l => Assert.Equal(LayerState.Loaded, l.State));
        Assert.All(status.Layers, l => Assert.NotEqual(killed, l.Silo));
        Assert.Equal(expected, await ClusterCalls.Collect(model, s_prompt, MaxTokens));
    }

    /// <summary>A layer of the model on a secondary silo (the primary holds the test cluster's membership, so it is not the one to kill).</summary>
    private static int LayerOnASecondary(StoreCluster cluster, ModelStatus status)
    {
        var secondaries = cluster.Cluster.SecondarySilos.Select(s => s.SiloAddress.ToParsableString()).ToHashSet();
        return status.Layers.First(l => secondaries.Contains(l.Silo)).Layer;
    }

    /// <summary>
    /// Starts a job on <paramref name="model"/>, waits for <paramref name="hold"/> to catch a layer's step, kills the
    /// silo that step runs on, and returns the job's events to its end (its restarts and end written to the output) and
    /// the killed silo's address. The
    /// job is started and watched through <paramref name="model"/>, a reference made on the primary silo beside the
    /// coordinator, so the watch never depends on which gateway the test client happened to use.
    /// </summary>
    private async Task<(List<(JobEvent Event, TimeSpan At)> Events, string Killed)> KillUnderHeldStep(StoreCluster cluster, HeldLayerJob hold,
        IModelGrain model, Func<IModelGrain, Task<JobInfo>> start)
    {
        List<(JobEvent Event, TimeSpan At)> events;
        string silo;
        using (hold)
        {
            var job = Watch(model, start);
            (int layer, silo) = await hold.Reached.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"layer {layer} held on {silo}; killing that silo");
            await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.First(s => s.SiloAddress.ToParsableString() == silo));
            events = await job.WaitAsync(TimeSpan.FromSeconds(180));
        }

        foreach (var (e, at) in events.Where(e => e.Event.Stage is "restart" or "done" or "failed" or "cancelled"))
        {
            output.WriteLine($"{at.TotalSeconds:F1} s: {e.Stage} {e.Done}/{e.Total} {e.Message}");
        }

        return (events, silo);
    }

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
