using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansQuant.Silo.Http;

namespace OrleansQuant.Silo.Observability;

/// <summary><c>serve --metrics</c>: a web application with only the Prometheus scrape endpoint, for a silo without the HTTP API.</summary>
internal sealed class MetricsHost(IOptions<MetricsOptions> options, ILoggerFactory loggers) : SiloWebApp(loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<MetricsHost>();

    protected override WebApplication Build()
    {
        var builder = CreateBuilder(options.Value.Url!);
        PrometheusEndpoint.AddServices(builder.Services);
        var app = builder.Build();
        PrometheusEndpoint.Map(app);
        return app;
    }

    protected override void Started(IReadOnlyList<string> urls) =>
        _logger.LogInformation("Prometheus metrics at {Urls}{Path}", string.Join(", ", urls), PrometheusEndpoint.Path);
}
