using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
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

/// <summary>Counts the linears GPTQ quantizes, per model: a restore that quantized anything would show here.</summary>
public sealed class BuildCounter : IQuantizationFaultInjector
{
    private static readonly ConcurrentDictionary<string, int> s_linears = new();

    public static int Linears(string model) => s_linears.GetValueOrDefault(model);

    public void BeforeLinear(string model, int layer, string module, string recipeYaml, CancellationToken cancellation) =>
        s_linears.AddOrUpdate(model, 1, (_, n) => n + 1);
}
