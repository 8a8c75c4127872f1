using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansQuant.Grains;
using OrleansQuant.Grains.Hosting;

namespace OrleansQuant.Grains.Tests;

/// <summary>Three silos with two CPU devices each, in this process, shared by every cluster test.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

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
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddOrleansQuant(options => options.Devices = "cpu:2");
            silo.Services.AddSingleton<IQuantizationFaultInjector, SwitchableFaultInjector>();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>Fails GPTQ in the named model's layer when a test turns it on.</summary>
public sealed class SwitchableFaultInjector : IQuantizationFaultInjector
{
    public static volatile string? FailModel;
    public static volatile int FailLayer = -1;

    public void BeforeLinear(string model, int layer, string module, string recipeYaml)
    {
        if (model == FailModel && layer == FailLayer && module.EndsWith("mlp.up_proj", StringComparison.Ordinal))
        {
            throw new ArithmeticException($"injected GPTQ failure in {module}");
        }
    }
}
