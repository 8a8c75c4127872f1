using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// A Kestrel web application as a service of the silo host (the OpenAI-compatible API, the /metrics endpoint, the
/// dashboard): started after the silo, so the cluster client it calls through is ready, and stopped before it. Its own
/// host keeps ASP.NET Core's services out of the silo's container; it logs where the silo logs.
/// </summary>
internal abstract class SiloWebApp(ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    protected ILoggerFactory Loggers { get; } = loggers;

    /// <summary>The addresses Kestrel listens on once started.</summary>
    public IReadOnlyList<string> Urls => _app?.Urls.ToArray() ?? [];

    /// <summary>"127.0.0.1:8000" or "http://127.0.0.1:8000": Kestrel needs the scheme, the command line need not give it.</summary>
    public static string WithScheme(string url) => url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url;

    /// <summary>A slim builder listening on <paramref name="url"/>, logging to the silo's loggers.</summary>
    protected WebApplicationBuilder CreateBuilder(string url)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Loggers);
        builder.WebHost.UseUrls(WithScheme(url));
        return builder;
    }

    /// <summary>The application with its routes mapped, not yet started.</summary>
    protected abstract WebApplication Build();

    /// <summary>Logs what now listens where.</summary>
    protected abstract void Started(IReadOnlyList<string> urls);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _app = Build();
        await _app.StartAsync(cancellationToken);
        Started(Urls);
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
