using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Tests.Observability;

/// <summary>
/// One silo host as <c>serve --metrics --dashboard</c> builds it (SiloHostFactory), without the HTTP API, serving the
/// tiny model under a name of its own (so its measurements are its alone in this process), over one CPU device, after
/// a few generations through the cluster.
/// </summary>
public sealed class ObservabilityFixture : IAsyncLifetime
{
    public const string ModelName = "observed";

    private IHost _host = null!;

    public Uri MetricsUri { get; private set; } = null!;

    public Uri DashboardUri { get; private set; } = null!;

    public HttpClient Http { get; } = new();

    /// <summary>Tokens the generations streamed back, in all.</summary>
    public int GeneratedTokens { get; private set; }

    public int LayerCount { get; private set; }

    /// <summary>The silo's own client, for tests that run more than the fixture's generations (under other model names).</summary>
    public OrleansQuantClient Sdk { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        int silo = FreePort.Next(), gateway = FreePort.Next(), metrics = FreePort.Next(), dashboard = FreePort.Next();
        _host = SiloHostFactory.Build(new Dictionary<string, string?>
        {
            ["Silo:SiloPort"] = silo.ToString(),
            ["Silo:PrimarySiloPort"] = silo.ToString(),
            ["Silo:GatewayPort"] = gateway.ToString(),
            ["OrleansQuant:Devices"] = "cpu:1",
            ["OrleansQuant:Metrics:Url"] = $"127.0.0.1:{metrics}",
            ["OrleansQuant:Dashboard:Url"] = $"127.0.0.1:{dashboard}",
        }, CliLogging.For(Cli.Create().Parse(["serve"])));
        await _host.StartAsync();
        MetricsUri = new Uri($"http://127.0.0.1:{metrics}/metrics");
        DashboardUri = new Uri($"http://127.0.0.1:{dashboard}/");

        var sdk = Sdk = new OrleansQuantClient(_host.Services.GetRequiredService<IClusterClient>());
        var status = await sdk.LoadAsync(ModelName, "tiny");
        LayerCount = status.Layers.Count;

        // Three at once, so that steps batch more than one sequence.
        var counts = await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
        {
            int tokens = 0;
            await foreach (var _ in sdk.GenerateAsync(ModelName, new GenerateRequest(PromptIds: [1, 2 + i, 3], MaxTokens: 4 + i, Temperature: 0f)))
            {
                tokens++;
            }

            return tokens;
        }));
        GeneratedTokens = counts.Sum();
    }

    public async Task<PrometheusText> Scrape(Uri uri)
    {
        using var response = await Http.GetAsync(uri);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>One observed silo for every class that reads it: its measurements are counted once, by one fixture.</summary>
[CollectionDefinition(Name)]
public sealed class ObservabilityCollection : ICollectionFixture<ObservabilityFixture>
{
    public const string Name = "observability";
}
