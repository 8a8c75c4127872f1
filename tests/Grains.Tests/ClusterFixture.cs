using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansQuant.Client;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Grains.Layers;

namespace OrleansQuant.Grains.Tests;

/// <summary>Three silos with two CPU devices each, in this process, shared by every cluster test.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public OrleansQuantClient Sdk => new(Cluster.Client);

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        if (Directory.Exists(StoreDirectory))
        {
            Directory.Delete(StoreDirectory, recursive: true);
        }
    }

    /// <summary>The model store of this test run's shared cluster (memory grain storage, the default): under the temp directory.</summary>
    internal static readonly string StoreDirectory = Path.Combine(Path.GetTempPath(), "oq-tests-store-" + Environment.ProcessId);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddOrleansQuant(options =>
            {
                options.Devices = "cpu:2";

                // Parked in host memory after each commit, so every re-quantization test here builds from a restored copy.
                options.FullPrecisionCopy = "host";
            }, store => store.Directory = StoreDirectory);
            silo.Services.AddSingleton<IQuantizationFaultInjector, TestFaultInjector>();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>
/// Fails or slows GPTQ in a named model's layer when a test asks: a failure before its up_proj, a delay (cancellable)
/// before its first linear. Keyed by model name, so a test touches only its own model.
/// </summary>
public sealed class TestFaultInjector : IQuantizationFaultInjector
{
    private static readonly ConcurrentDictionary<(string Model, int Layer), TimeSpan> s_delays = new();
    private static readonly ConcurrentDictionary<(string Model, int Layer), bool> s_failures = new();

    public static IDisposable Fail(string model, int layer)
    {
        s_failures[(model, layer)] = true;
        return new Undo(() => s_failures.TryRemove((model, layer), out _));
    }

    public static IDisposable Delay(string model, int layer, TimeSpan delay)
    {
        s_delays[(model, layer)] = delay;
        return new Undo(() => s_delays.TryRemove((model, layer), out _));
    }

    public void BeforeLinear(string model, int layer, string module, string recipeYaml, CancellationToken cancellation)
    {
        if (s_delays.TryGetValue((model, layer), out var delay) && module.EndsWith("self_attn.q_proj", StringComparison.Ordinal))
        {
            Task.Delay(delay, cancellation).GetAwaiter().GetResult();
        }

        if (s_failures.ContainsKey((model, layer)) && module.EndsWith("mlp.up_proj", StringComparison.Ordinal))
        {
            throw new ArithmeticException($"injected GPTQ failure in {module}");
        }
    }

    private sealed class Undo(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
