using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Silo.Http;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo;

/// <summary>
/// Builds a silo host with localhost clustering. Settings come, later ones winning, from appsettings.json,
/// environment variables (OrleansQuant__Devices, OrleansQuant__Http__Url, Silo__SiloPort, …) and the command line's overrides.
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

        // Registered after the silo, so it starts once the silo has (and stops before it); off without a URL.
        var http = builder.Configuration.GetSection(HttpApiOptions.Section);
        builder.Services.Configure<HttpApiOptions>(http);
        if (!string.IsNullOrWhiteSpace(http.GetValue<string>(nameof(HttpApiOptions.Url))))
        {
            builder.Services.AddSingleton<HttpApiHost>();
            builder.Services.AddHostedService(services => services.GetRequiredService<HttpApiHost>());
        }

        return builder.Build();
    }
}
