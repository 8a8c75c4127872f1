using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The OpenAI-compatible API as a service of the silo host: its own Kestrel web application, started after the silo
/// (so the cluster client it calls through is ready) and stopped before it. Its own host keeps ASP.NET Core's services
/// out of the silo's container; it logs where the silo logs.
/// </summary>
internal sealed class HttpApiHost(IOptions<HttpApiOptions> options, IClusterClient cluster, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<HttpApiHost>();
    private WebApplication? _app;

    /// <summary>The addresses Kestrel listens on once started.</summary>
    public IReadOnlyList<string> Urls => _app?.Urls.ToArray() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.UseUrls(settings.ListenUrl());
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = settings.MaxBodyBytes);
        _app = builder.Build();
        OpenAiApi.Map(_app, new ServedModels(cluster, options), settings, _logger);
        await _app.StartAsync(cancellationToken);
        _logger.LogInformation("OpenAI-compatible API listening on {Urls} for models {Models}; API keys {KeyCount}",
            string.Join(", ", _app.Urls), string.Join(", ", settings.ServedNames), settings.ApiKeys.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
