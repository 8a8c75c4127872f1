using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo;

/// <summary>
/// Builds a silo host with localhost clustering. Settings come, later ones winning, from appsettings.json,
/// environment variables (OrleansQuant__Devices, Silo__SiloPort, …) and the command line's overrides.
/// </summary>
internal static class SiloHostFactory
{
    /// <param name="logging">where the silo's logs go: the command's log file, or the console with --verbose.</param>
    public static IHost Build(IReadOnlyDictionary<string, string?> overrides, CliLogging logging)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.AddInMemoryCollection(overrides.Where(o => o.Value is not null));
        var silo = builder.Configuration.GetSection("Silo");
        int siloPort = silo.GetValue("SiloPort", 11111), gatewayPort = silo.GetValue("GatewayPort", 30000);
        int primaryPort = silo.GetValue("PrimarySiloPort", siloPort);
        builder.Services.Configure<OrleansQuantOptions>(builder.Configuration.GetSection(OrleansQuantOptions.Section));
        logging.Configure(builder.Logging);
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.UseOrleans(orleans =>
        {
            orleans.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort));
            orleans.AddOrleansQuant();
            orleans.AddCudaDevices();
        });
        return builder.Build();
    }
}
