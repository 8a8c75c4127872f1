using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Tokenization;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// One silo host as <c>serve --http</c> builds it (SiloHostFactory), on free loopback ports, serving the tiny demo model
/// as "default" over one CPU device, with an API key and a small body limit; "unloaded" is served but never loaded.
/// Shared by every HTTP test class.
/// </summary>
public class HttpApiFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key";
    public const string Unloaded = "unloaded";
    public const long MaxBodyBytes = 64 * 1024;

    private IHost _host = null!;

    /// <summary>The request queue's bounds, when a fixture sets them (the defaults otherwise).</summary>
    protected virtual int? MaxRunningRequests => null;

    protected virtual int? MaxWaitingRequests => null;

    /// <summary>The request body limit the server is given: <see cref="MaxBodyBytes"/> unless a fixture needs more.</summary>
    protected virtual long BodyLimit => MaxBodyBytes;

    /// <summary>The admin key, when a fixture sets one; none by default, which leaves /admin unmapped.</summary>
    protected virtual string? AdminKey => null;

    public OrleansQuantClient Sdk { get; private set; } = null!;

    /// <summary>Sends the API key; <see cref="BaseUri"/> is the server's root.</summary>
    public HttpClient Http { get; private set; } = null!;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The silo's gateway, for clients in hosts of their own (the SDK's tests).</summary>
    public int GatewayPort { get; private set; }

    public ModelTokenizer Tokenizer { get; } = ModelTokenizer.Load(ModelDirectory.Resolve("tiny"));

    public async Task InitializeAsync()
    {
        int silo = FreePort.Next(), gateway = FreePort.Next(), http = FreePort.Next();
        GatewayPort = gateway;
        _host = SiloHostFactory.Build(new Dictionary<string, string?>
        {
            ["Silo:SiloPort"] = silo.ToString(),
            ["Silo:PrimarySiloPort"] = silo.ToString(),
            ["Silo:GatewayPort"] = gateway.ToString(),
            ["OrleansQuant:Devices"] = "cpu:1",
            ["OrleansQuant:Http:Url"] = $"127.0.0.1:{http}",
            ["OrleansQuant:Http:ApiKeys:0"] = ApiKey,
            ["OrleansQuant:Http:MaxBodyBytes"] = BodyLimit.ToString(),
            ["OrleansQuant:Http:Models:0"] = "default",
            ["OrleansQuant:Http:Models:1"] = Unloaded,
            ["OrleansQuant:Http:MaxRunningRequests"] = MaxRunningRequests?.ToString(),
            ["OrleansQuant:Http:MaxWaitingRequests"] = MaxWaitingRequests?.ToString(),
            ["OrleansQuant:Http:AdminKeys:0"] = AdminKey,
        }, CliLogging.For(Cli.Create().Parse(["serve"])));
        await _host.StartAsync();
        Sdk = new OrleansQuantClient(_host.Services.GetRequiredService<IClusterClient>());
        await Sdk.LoadAsync("default", "tiny");
        BaseUri = new Uri($"http://127.0.0.1:{http}/");
        // No pooled connections: a connection the server closed after a cancelled stream is never reused for the next
        // test's POST (which HttpClient does not retry: "the response ended prematurely").
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = BaseUri };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        await Prepare();
    }

    /// <summary>What a fixture does once the model is loaded and the clients made; nothing by default.</summary>
    protected virtual Task Prepare() => Task.CompletedTask;

    /// <summary>What the engine itself makes of a request through the SDK: the ids and the text of each token.</summary>
    public async Task<(List<int> Ids, string Text)> Engine(int[] prompt, int maxTokens)
    {
        var ids = new List<int>();
        var text = new System.Text.StringBuilder();
        await foreach (var token in Sdk.GenerateAsync("default", new GenerateRequest(PromptIds: prompt, MaxTokens: maxTokens, Temperature: 0f)))
        {
            ids.Add(token.TokenId);

            // An EOS token's text is no part of an OpenAI answer.
            text.Append(token.FinishReason == "stop" ? "" : token.Text);
        }

        return (ids, text.ToString());
    }

    /// <summary>Waits up to <paramref name="limit"/> for <paramref name="model"/> to have no sequence left in its batch, and asserts it has none.</summary>
    public async Task AssertNoSequenceWithin(string model, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int active;
        while ((active = (await Sdk.StatusAsync(model)).ActiveSequences) > 0 && clock.Elapsed < limit)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, active);
    }

    /// <summary>POSTs <paramref name="body"/> (raw JSON when a string, else serialized) and parses the answer.</summary>
    public async Task<(System.Net.HttpStatusCode Status, System.Text.Json.JsonElement Body)> Post(string path, object body, HttpClient? client = null)
    {
        string json = body as string ?? System.Text.Json.JsonSerializer.Serialize(body);
        using var response = await (client ?? Http).PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, System.Text.Json.JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _host.StopAsync();
        _host.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class HttpApiCollection : ICollectionFixture<HttpApiFixture>
{
    public const string Name = "http api";
}
