using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;
using OrleansQuant.Contracts;
using OrleansQuant.Client;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Grains.Layers;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// A cluster of its own for the persistence tests (they stop silos and whole clusters, which the shared fixture's other
/// tests must not see): two silos of two CPU devices, the model store and file grain storage in
/// <paramref name="storeDirectory"/>, set through configuration as an operator would.
/// </summary>
internal sealed class StoreCluster(TestCluster cluster) : IAsyncDisposable
{
    public TestCluster Cluster { get; } = cluster;

    public OrleansQuantClient Sdk => new(Cluster.Client);

    /// <param name="redis">a Redis configuration string: grain state goes to Redis instead of files.</param>
    /// <param name="serviceId">Redis keys grain state by service id, which a test cluster otherwise draws afresh: a
    /// restarted cluster names the one it restarts, as a real deployment keeps its ServiceId.</param>
    public static async Task<StoreCluster> Start(string storeDirectory, int silos = 2, string? redis = null, string? serviceId = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.Properties[$"{StoreOptions.Section}:{nameof(StoreOptions.Directory)}"] = storeDirectory;
        builder.Properties[$"{StoreOptions.Section}:{nameof(StoreOptions.GrainStorage)}"] = redis is null ? "file" : "redis";
        if (redis is not null)
        {
            builder.Properties[$"{StoreOptions.Section}:{nameof(StoreOptions.RedisConnectionString)}"] = redis;
        }

        builder.AddSiloBuilderConfigurator<Configurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new StoreCluster(cluster);
    }

    /// <summary>A silo's own grain factory: a grain first called through it is placed there when its placement prefers the caller's silo.</summary>
    public static IGrainFactory Factory(SiloHandle silo) => ((InProcessSiloHandle)silo).SiloHost!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The silo the coordinator of <paramref name="name"/> is active on, or null, found without calling it.</summary>
    public async Task<SiloAddress?> CoordinatorSilo(string name)
    {
        var id = Cluster.Client.GetGrain<IModelGrain>(name).GetGrainId();
        var stats = await Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.FirstOrDefault(s => s.GrainId == id)?.SiloAddress;
    }

    /// <summary>
    /// Moves the coordinator of <paramref name="name"/> to <paramref name="target"/>: migrated there (a placement hint)
    /// when it is active elsewhere, then called from there, and its restoring load awaited (it restores from its record,
    /// finding its layers where they are).
    /// </summary>
    public async Task MoveCoordinator(string name, SiloHandle target)
    {
        var model = Cluster.Client.GetGrain<IModelGrain>(name);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var where = await CoordinatorSilo(name);
            if (target.SiloAddress.Equals(where))
            {
                return;
            }

            if (where is not null)
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, target.SiloAddress);
                try
                {
                    await model.AsReference<IGrainManagementExtension>().MigrateOnIdle();
                }
                finally
                {
                    RequestContext.Remove(IPlacementDirector.PlacementHintKey);
                }

                await Task.Delay(200);
            }

            // The next call reactivates it, made from the target. Status waits for its restoring load, a while; a model
            // not loaded yet says so, and has nothing to restore.
            if (await StatusIfLoaded(Factory(target), name) is not { } status)
            {
                continue;
            }

            var load = status.Jobs.FirstOrDefault(j => j.Kind == "load" && j.State == JobState.Running);
            while (load is not null && (await model.GetJob(load.Id)).State == JobState.Running)
            {
                await Task.Delay(50);
            }
        }

        Assert.Fail($"the coordinator of '{name}' did not move to {target.SiloAddress} in 20 tries");
    }

    /// <summary>The status of <paramref name="name"/>, or null when it has no model (nor is restoring one); the call activates its coordinator if it was not.</summary>
    private static async Task<ModelStatus?> StatusIfLoaded(IGrainFactory grains, string name)
    {
        try
        {
            return await grains.GetGrain<IModelGrain>(name).GetStatus();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddOrleansQuant(options => options.Devices = "cpu:2");
            silo.Services.AddSingleton<IQuantizationFaultInjector, BuildCounter>();
        }
    }
}

/// <summary>
/// Counts the linears GPTQ quantizes, per model (a restore that quantized anything would show here), and holds a
/// layer's build or shard write when a test asks (<see cref="HeldLayerJob"/>).
/// </summary>
public sealed class BuildCounter(ILocalSiloDetails silo) : IQuantizationFaultInjector
{
    private static readonly ConcurrentDictionary<string, int> s_linears = new();

    private readonly string _silo = silo.SiloAddress.ToParsableString();

    public static int Linears(string model) => s_linears.GetValueOrDefault(model);

    public void BeforeLinear(string model, int layer, string module, string recipeYaml, CancellationToken cancellation)
    {
        s_linears.AddOrUpdate(model, 1, (_, n) => n + 1);
        HeldLayerJob.Before(model, layer, HeldLayerJob.Step.Build, _silo, cancellation);
    }

    public void BeforeLoad(string model, int layer, CancellationToken cancellation) =>
        HeldLayerJob.Before(model, layer, HeldLayerJob.Step.Load, _silo, cancellation);

    public void BeforeWriteShard(string model, int layer, CancellationToken cancellation) =>
        HeldLayerJob.Before(model, layer, HeldLayerJob.Step.WriteShard, _silo, cancellation);
}
