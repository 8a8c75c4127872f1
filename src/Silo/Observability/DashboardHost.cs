using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansQuant.Silo.Http;

namespace OrleansQuant.Silo.Observability;

/// <summary>
/// <c>serve --dashboard</c>: the Orleans Dashboard (grains, calls, silos) as a web application of the silo host. The
/// silo collects the statistics (<c>AddDashboard</c> on the silo builder); this application reads them as the
/// dashboard's documented separate host does, through its own cluster client on this silo's gateway, since the
/// dashboard's endpoints resolve their services from the web application's container, which is not the silo's.
/// </summary>
internal sealed class DashboardHost(IOptions<DashboardHostOptions> options, IOptions<EndpointOptions> silo, ILoggerFactory loggers) : SiloWebApp(loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<DashboardHost>();

    protected override WebApplication Build()
    {
        var builder = CreateBuilder(options.Value.Url!);
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(silo.Value.GatewayPort);
            client.AddDashboard();
        });
        var app = builder.Build();
        app.MapOrleansDashboard();
        return app;
    }

    protected override void Started(IReadOnlyList<string> urls) =>
        _logger.LogInformation("Orleans Dashboard at {Urls}", string.Join(", ", urls));
}
