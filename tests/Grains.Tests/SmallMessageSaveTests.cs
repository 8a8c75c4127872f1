using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests;

/// <summary>
/// Big data never travels in one message: with Orleans' message limit lowered below the size of one layer, a cluster
/// still quantizes and saves a model, because each layer grain writes its own shard.
/// </summary>
public sealed class SmallMessageSaveTests : IAsyncLifetime
{
    private const int MessageLimit = 32 * 1024;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task AModelWhoseLayersExceedTheMessageLimitIsSavedShardByShard()
    {
        var sdk = new OrleansQuantClient(_cluster.Client);
        var status = await sdk.LoadAsync("small", "tiny");
        Assert.Equal(2, status.Layers.Select(l => l.Silo).Distinct().Count());
        var events = await ClusterCalls.Quantize(sdk, "small", new QuantizeRequest(Calibration: "self", SampleCount: 4, MaxTokens: 16));
        Assert.Equal("done", events[^1].Event.Stage);

        using var saved = new TempDirectory();
        await sdk.SaveAsync("small", saved.Path);

        // Each layer's shard is larger than any message may be.
        var shards = Directory.GetFiles(saved.Path, "model-*.safetensors").Order().ToArray();
        Assert.Equal(5, shards.Length);
        Assert.All(shards.Skip(1), shard => Assert.True(new FileInfo(shard).Length > MessageLimit, $"{shard} is {new FileInfo(shard).Length} bytes"));

        // The checkpoint loads and serves what the cluster serves.
        using var device = new CpuDevice();
        using var reloaded = CausalLanguageModel.Load(saved.Path, device);
        Assert.NotNull(reloaded.Quantization);
        int[] prompt = [0, 86, 106, 103];
        var local = new Generator(reloaded).Generate([new GenerationRequest(prompt, 10, SamplingOptions.Greedy, reloaded.Config.EosTokenIds)])[0];
        Assert.Equal(local.GeneratedIds, await ClusterCalls.Collect(sdk.Model("small"), prompt, 10));
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddOrleansQuant(options => options.Devices = "cpu:1");
            silo.Services.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = MessageLimit);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.Services.Configure<ClientMessagingOptions>(o => o.MaxMessageBodySize = MessageLimit);
    }
}
