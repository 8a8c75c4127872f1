using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// The .NET SDK: typed calls to an OrleansQuant cluster — load a model, quantize it (progress streams back),
/// generate (tokens stream back), re-quantize one layer while it serves, read its status.
/// </summary>
public sealed class OrleansQuantClient(IClusterClient cluster)
{
    public IClusterClient Cluster { get; } = cluster;

    /// <summary>Connects to a cluster whose silos use localhost clustering, through the gateway on <paramref name="gatewayPort"/>.</summary>
    /// <param name="configure">further host settings, such as logging.</param>
    public static async Task<(OrleansQuantClient Client, IHost Host)> ConnectLocalhostAsync(
        int gatewayPort = 30000, Action<IHostBuilder>? configure = null, CancellationToken cancellation = default)
    {
        var builder = Host.CreateDefaultBuilder().UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort));
        configure?.Invoke(builder);
        var host = builder.Build();
        await host.StartAsync(cancellation);
        return (new OrleansQuantClient(host.Services.GetRequiredService<IClusterClient>()), host);
    }

    public IModelGrain Model(string name) => Cluster.GetGrain<IModelGrain>(name);

    /// <summary>Loads a checkpoint directory (readable by every silo) or a demo model name under <paramref name="name"/>.</summary>
    public Task<ModelStatus> LoadAsync(string name, string model, long kvCacheBudgetBytes = 1L << 30) =>
        Model(name).Load(new LoadModelRequest(model, kvCacheBudgetBytes));

    public IAsyncEnumerable<QuantizationEvent> QuantizeAsync(string name, QuantizeRequest? request = null) =>
        Model(name).Quantize(request ?? new QuantizeRequest());

    public IAsyncEnumerable<GeneratedToken> GenerateAsync(string name, GenerateRequest request) => Model(name).Generate(request);

    /// <summary>The whole continuation of <paramref name="prompt"/> as one string.</summary>
    public async Task<string> CompleteAsync(string name, string prompt, int maxTokens = 32, float temperature = 0f, CancellationToken cancellation = default)
    {
        var text = new StringBuilder();
        await foreach (var token in GenerateAsync(name, new GenerateRequest(Prompt: prompt, MaxTokens: maxTokens, Temperature: temperature)).WithCancellation(cancellation))
        {
            text.Append(token.Text);
        }

        return text.ToString();
    }

    public Task<RequantizeResult> RequantizeLayerAsync(string name, int layer, string recipeYaml) => Model(name).RequantizeLayer(layer, recipeYaml);

    public Task<ModelStatus> StatusAsync(string name) => Model(name).GetStatus();

    public Task SaveAsync(string name, string directory) => Model(name).Save(directory);

    /// <summary>The model <paramref name="name"/> as a Microsoft.Extensions.AI chat client.</summary>
    public IChatClient AsChatClient(string name) => new OrleansQuantChatClient(this, name);
}
