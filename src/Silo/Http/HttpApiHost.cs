using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansQuant.Client;
using OrleansQuant.Silo.Observability;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The OpenAI-compatible API as a web application of the silo host (<see cref="SiloWebApp"/>), with the Prometheus
/// scrape endpoint /metrics beside it (open without the API key, as /v1's check covers only /v1), and the admin API
/// (<see cref="AdminApi"/>) when an admin key is configured.
/// </summary>
internal sealed class HttpApiHost(IOptions<HttpApiOptions> options, IClusterClient cluster, ILoggerFactory loggers) : SiloWebApp(loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<HttpApiHost>();

    /// <summary>Whether /admin/v1 is mapped (an admin key is configured).</summary>
    public bool AdminEnabled => options.Value.AdminEnabled;

    protected override WebApplication Build()
    {
        var settings = options.Value;
        var builder = CreateBuilder(settings.Url!);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = settings.MaxBodyBytes);
        PrometheusEndpoint.AddServices(builder.Services);
        var app = builder.Build();
        OpenAiApi.Map(app, new ServedModels(cluster, options), settings, _logger);
        if (settings.AdminEnabled)
        {
            AdminApi.Map(app, new AdminJobs(new OrleansQuantClient(cluster), settings.ServedNames, Loggers.CreateLogger<AdminJobs>()), settings);
        }

        PrometheusEndpoint.Map(app);
        return app;
    }

    protected override void Started(IReadOnlyList<string> urls)
    {
        _logger.LogInformation("OpenAI-compatible API listening on {Urls} for models {Models}; API keys {KeyCount}; metrics at /metrics",
            string.Join(", ", urls), string.Join(", ", options.Value.ServedNames), options.Value.ApiKeys.Count);
        if (options.Value.AdminEnabled)
        {
            _logger.LogInformation("Admin API on {Prefix} (quantize, requantize, load, save, status, jobs); admin keys {AdminKeyCount}",
                AdminApi.Prefix, options.Value.AdminKeys.Count(key => !string.IsNullOrEmpty(key)));
        }
        else
        {
            _logger.LogInformation("Admin API off: no admin key configured (serve --admin-key, {Section}:AdminKeys), so {Prefix} answers 404",
                HttpApiOptions.Section, AdminApi.Prefix);
        }
    }
}
