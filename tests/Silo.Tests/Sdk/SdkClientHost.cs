using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansQuant.Client;
using OrleansQuant.Silo.Tests.Http;

namespace OrleansQuant.Silo.Tests.Sdk;

/// <summary>
/// A .NET host of its own, as a service using the SDK builds it: <c>AddOrleansQuantClient</c> with settings from
/// configuration, connected through the HTTP fixture's silo gateway. The model "tiny" (the tiny demo model) is
/// loaded once for every SDK test, beside the fixture's "default".
/// </summary>
internal static class SdkClientHost
{
    public const string Model = "tiny";

    private static readonly SemaphoreSlim s_load = new(1, 1);
    private static bool s_loaded;

    /// <summary>The host's configuration: the SDK's section, as a service's appsettings.json would carry it.</summary>
    public static Dictionary<string, string?> Settings(string gateway, TimeSpan connectTimeout) => new()
    {
        ["OrleansQuant:Client:Gateways:0"] = gateway,
        ["OrleansQuant:Client:DefaultModel"] = Model,
        ["OrleansQuant:Client:ConnectTimeout"] = connectTimeout.ToString(),
    };

    public static HostApplicationBuilder Builder(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.AddOrleansQuantClient();
        return builder;
    }

    /// <summary>A started host connected to <paramref name="fixture"/>'s silo, with "tiny" loaded.</summary>
    public static async Task<IHost> StartAsync(HttpApiFixture fixture)
    {
        var host = Builder(Settings($"127.0.0.1:{fixture.GatewayPort}", TimeSpan.FromSeconds(10))).Build();
        await host.StartAsync();
        await s_load.WaitAsync();
        try
        {
            if (!s_loaded)
            {
                await fixture.Sdk.LoadAsync(Model, "tiny");
                s_loaded = true;
            }
        }
        finally
        {
            s_load.Release();
        }

        return host;
    }
}
