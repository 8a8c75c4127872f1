using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Silo.Http;
using OrleansQuant.Silo.Logging;
using OrleansQuant.Silo.Observability;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant serve [--silo-port P] [--gateway-port G] [--primary-port P0] [--devices cpu:N|cuda|cuda:0,1|auto] [--load MODEL] [--http 127.0.0.1:8000 [--api-key KEY] [--admin-key KEY]] [--metrics 127.0.0.1:9464] [--dashboard [PORT]]</c>:
/// runs a silo until stopped. Several on one machine form a cluster: give each its own ports and the first one's
/// silo port as --primary-port. With <c>--redis HOST:PORT [--cluster-id ID]</c> the membership is in Redis instead: no
/// primary, silos on any machine, and the cluster outlives any one of them (docs/RELIABILITY.md, Membership).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var siloPort = new Option<int?>("--silo-port") { Description = "Silo-to-silo port (11111)" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "Client gateway port (30000)" };
        var primaryPort = new Option<int?>("--primary-port") { Description = "Silo port of the primary silo, for localhost clustering (this silo's own)" };
        var devices = new Option<string?>("--devices") { Description = "This silo's devices: cpu:N (N CPU devices sharing the cores), cuda (every GPU), cuda:0,1 (GPUs by ordinal) or auto" };
        var load = new Option<string?>("--load") { Description = "Once up, load this model (directory or demo name) under the name 'default'" };
        var http = new Option<string?>("--http") { Description = "Serve the OpenAI-compatible HTTP API here, e.g. 127.0.0.1:8000 (off by default)" };
        var apiKey = new Option<string?>("--api-key") { Description = "With --http: the bearer key /v1 asks for (none by default)" };
        var adminKey = new Option<string?>("--admin-key")
        {
            Description = "With --http: the bearer key /admin/v1 asks for (quantize, requantize, load, save, jobs); it opens /v1 too. Without it the admin API is off",
        };
        var metrics = new Option<string?>("--metrics") { Description = "Serve Prometheus metrics at /metrics here without the HTTP API, e.g. 127.0.0.1:9464 (--http serves them too)" };
        var dashboard = DashboardOption.Create();
        var (redis, clusterId) = (ClusterConnection.RedisOption(), ClusterConnection.ClusterIdOption());
        var command = new Command("serve", "Run a silo of an OrleansQuant cluster") { siloPort, gatewayPort, primaryPort, devices, load, http, apiKey, adminKey, metrics, dashboard, redis, clusterId };
        command.SetAction(async (parse, cancellation) =>
        {
            var logging = CliLogging.For(parse);
            logging.Announce();
            var (dashboardKey, dashboardUrl) = DashboardOption.Setting(parse, dashboard);
            using var host = SiloHostFactory.Build(new Dictionary<string, string?>
            {
                ["Silo:SiloPort"] = parse.GetValue(siloPort)?.ToString(),
                ["Silo:GatewayPort"] = parse.GetValue(gatewayPort)?.ToString(),
                ["Silo:PrimarySiloPort"] = (parse.GetValue(primaryPort) ?? parse.GetValue(siloPort))?.ToString(),
                ["OrleansQuant:Devices"] = parse.GetValue(devices),
                [$"{HttpApiOptions.Section}:{nameof(HttpApiOptions.Url)}"] = parse.GetValue(http),
                [$"{HttpApiOptions.Section}:{nameof(HttpApiOptions.ApiKeys)}:0"] = parse.GetValue(apiKey),
                [$"{HttpApiOptions.Section}:{nameof(HttpApiOptions.AdminKeys)}:0"] = parse.GetValue(adminKey),
                [$"{MetricsOptions.Section}:{nameof(MetricsOptions.Url)}"] = parse.GetValue(metrics),
                [dashboardKey] = dashboardUrl,
                [$"{ClusteringOptions.Section}:{nameof(ClusteringOptions.Redis)}"] = parse.GetValue(redis),
                [$"{ClusteringOptions.Section}:{nameof(ClusteringOptions.ClusterId)}"] = parse.GetValue(clusterId),
            }, logging);
            await host.StartAsync(cancellation);
            Console.WriteLine("silo started; Ctrl+C stops it");
            if (host.Services.GetService<HttpApiHost>() is { } api)
            {
                Console.WriteLine($"OpenAI-compatible API on {string.Join(", ", api.Urls)}/v1, metrics at /metrics");
                Console.WriteLine(api.AdminEnabled
                    ? $"admin API on {string.Join(", ", api.Urls)}{AdminApi.Prefix} (admin key required)"
                    : "admin API off (no --admin-key)");
            }

            if (host.Services.GetService<MetricsHost>() is { } metricsHost)
            {
                Console.WriteLine($"Prometheus metrics on {string.Join(", ", metricsHost.Urls)}{PrometheusEndpoint.Path}");
            }

            DashboardOption.Announce(host.Services);

            if (parse.GetValue(load) is string model)
            {
                var client = new OrleansQuantClient(host.Services.GetRequiredService<IClusterClient>());
                var status = await client.LoadAsync("default", model);
                Console.WriteLine(Reports.PlacementTable(status));
            }

            await host.WaitForShutdownAsync(cancellation);
            return 0;
        });
        return command;
    }
}
