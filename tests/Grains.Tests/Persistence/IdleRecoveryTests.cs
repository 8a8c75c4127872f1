using Orleans.TestingHost;
using Xunit.Abstractions;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// A model that serves nothing when a silo dies comes back on its own: the silos follow membership and, when one is
/// declared dead, wake every model of the catalog (<c>SiloLossWatcher</c>), which restores what it lost from the store
/// before any request arrives. Nothing in these tests calls the model between the kill and the restore being recorded.
/// </summary>
public sealed class IdleRecoveryTests(ITestOutputHelper output)
{
    private static readonly int[] s_prompt = [0, 72, 101, 108, 108, 111];
    private const int MaxTokens = 24;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Layers_lost_with_a_silo_while_the_model_is_idle_are_restored_before_any_call()
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        const string name = "idle-layers";
        var before = await LoadAndQuantize(cluster, name);

        // A silo with layers, not the primary (the test cluster's membership lives there); the coordinator stays away from it.
        var victim = cluster.Cluster.SecondarySilos.First(s => before.Layers.Any(l => l.Silo == s.SiloAddress.ToParsableString()));
        await cluster.MoveCoordinator(name, cluster.Cluster.Primary!);
        var expected = await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>(name), s_prompt, MaxTokens);
        int linears = BuildCounter.Linears(name);

        using var recoveries = new ModelMetric("orleansquant.layer.recovery_time", name);
        await cluster.Cluster.KillSiloAsync(victim);
        double seconds = await recoveries.First(s_limit);
        output.WriteLine($"killed {victim.SiloAddress}; its layers were restored, with no call to the model, in {seconds:F2} s of recovery");

        await AssertWholeAndUnchanged(cluster, name, before, victim, linears, expected);
        Assert.Single(recoveries.Values);
    }

    [Fact]
    public async Task A_coordinator_lost_with_its_silo_while_idle_is_reactivated_and_restores_its_model_before_any_call()
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        const string name = "idle-coordinator";
        var before = await LoadAndQuantize(cluster, name);

        var victim = cluster.Cluster.SecondarySilos[0];
        await cluster.MoveCoordinator(name, victim);
        var expected = await ClusterCalls.Collect(cluster.Cluster.Client.GetGrain<IModelGrain>(name), s_prompt, MaxTokens);
        int linears = BuildCounter.Linears(name);

        using var restores = new ModelMetric("orleansquant.model.restore_time", name);
        await cluster.Cluster.KillSiloAsync(victim);
        double seconds = await restores.First(s_limit);
        var where = await cluster.CoordinatorSilo(name);
        output.WriteLine($"killed {victim.SiloAddress} with the coordinator; it is active on {where} and restored its model in {seconds:F2} s, with no call to it");
        Assert.NotNull(where);
        Assert.NotEqual(victim.SiloAddress, where);

        await AssertWholeAndUnchanged(cluster, name, before, victim, linears, expected);
        var status = await cluster.Cluster.Client.GetGrain<IModelGrain>(name).GetStatus();
        var job = Assert.Single(status.Jobs);
        Assert.Equal(("load", JobState.Succeeded), (job.Kind, job.State));
    }

    private static async Task<ModelStatus> LoadAndQuantize(StoreCluster cluster, string name)
    {
        await cluster.Sdk.LoadAsync(name, "tiny");
        var events = await ClusterCalls.Quantize(cluster.Sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24));
        Assert.Equal("done", events[^1].Event.Stage);
        return await cluster.Sdk.StatusAsync(name);
    }

    /// <summary>Every layer serves off the dead silo at the version it had, nothing was quantized again, and the ids are the same.</summary>
    private static async Task AssertWholeAndUnchanged(StoreCluster cluster, string name, ModelStatus before, SiloHandle victim, int linears, List<int> expected)
    {
        var model = cluster.Cluster.Client.GetGrain<IModelGrain>(name);
        var after = await model.GetStatus();
        Assert.Equal(before.Layers.Select(l => l.Version), after.Layers.Select(l => l.Version));
        Assert.All(after.Layers, l => Assert.Equal(LayerState.Serving, l.State));
        Assert.All(after.Layers, l => Assert.NotEqual(victim.SiloAddress.ToParsableString(), l.Silo));
        Assert.Equal(linears, BuildCounter.Linears(name));
        Assert.Equal(expected, await ClusterCalls.Collect(model, s_prompt, MaxTokens));
    }
}
