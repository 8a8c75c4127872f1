using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OrleansQuant.Grains.Telemetry;

namespace OrleansQuant.Silo.Observability;

/// <summary>
/// /metrics in Prometheus' text format, from OpenTelemetry: the engine's meter, Orleans' own and the .NET runtime's
/// (both already recorded by the runtime; exporting them costs only the scrape). One code path for the API host
/// (<c>serve --http</c>) and the metrics-only host (<c>serve --metrics</c>).
/// </summary>
internal static class PrometheusEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Orleans' meter (grain calls, messaging, activations) as its runtime names it.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>The .NET runtime's built-in meter (GC, thread pool, exceptions).</summary>
    public const string RuntimeMeter = "System.Runtime";

    public static void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(OrleansQuantMetrics.MeterName, OrleansMeter, RuntimeMeter)

            // A scrape reads now, not a copy up to 300 ms old: Prometheus scrapes every few seconds, not faster.
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));

    public static void Map(WebApplication app) => app.MapPrometheusScrapingEndpoint(Path);
}
