using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Silo.Http;
using OrleansQuant.Silo.Logging;
using OrleansQuant.Silo.Observability;
using Orleans.Dashboard;

namespace OrleansQuant.Silo;

/// <summary>
/// Builds a silo host with localhost clustering, or Redis membership when OrleansQuant:Clustering:Redis is set (SiloClustering). Settings come, later ones winning, from appsettings.json,
/// environment variables (OrleansQuant__Devices, OrleansQuant__Http__Url, OrleansQuant__Metrics__Url, OrleansQuant__Dashboard__Url, Silo__SiloPort, …) and the command line's overrides.
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
        bool dashboard = IsOn(builder, DashboardHostOptions.Section);
        builder.UseOrleans(orleans =>
        {
            orleans.UseOrleansQuantClustering(builder.Configuration, siloPort, gatewayPort, primaryPort);
            orleans.AddOrleansQuant();
            orleans.UseConfiguredTls(builder.Configuration);
            orleans.AddCudaDevices();
            if (dashboard)
            {
                // The silo side of the dashboard: it profiles grain calls and answers the dashboard's queries.
                orleans.AddDashboard();
            }
        });

        // Registered after the silo, so each starts once the silo has (and stops before it); off without a URL.
        AddWebApp<HttpApiOptions, HttpApiHost>(builder, HttpApiOptions.Section);
        AddWebApp<MetricsOptions, MetricsHost>(builder, MetricsOptions.Section);
        AddWebApp<DashboardHostOptions, DashboardHost>(builder, DashboardHostOptions.Section);
        return builder.Build();
    }

    /// <summary>A web application is on when its section gives it a Url.</summary>
    private static bool IsOn(HostApplicationBuilder builder, string section) =>
        !string.IsNullOrWhiteSpace(builder.Configuration.GetSection(section).GetValue<string>("Url"));

    /// <summary>Binds a web application's options to <paramref name="section"/> and, when it is on, adds it as a hosted service.</summary>
    private static void AddWebApp<TOptions, THost>(HostApplicationBuilder builder, string section)
        where TOptions : class
        where THost : SiloWebApp
    {
        builder.Services.Configure<TOptions>(builder.Configuration.GetSection(section));
        if (IsOn(builder, section))
        {
            builder.Services.AddSingleton<THost>();
            builder.Services.AddHostedService(services => services.GetRequiredService<THost>());
        }
    }
}
