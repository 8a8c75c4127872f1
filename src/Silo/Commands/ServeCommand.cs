using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Silo.Http;
using OrleansQuant.Silo.Logging;
using OrleansQuant.Silo.Observability;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant serve [--silo-port P] [--gateway-port G] [--primary-port P0] [--devices cpu:N|cuda|cuda:0,1|auto] [--load MODEL] [--http 127.0.0.1:8000 [--api-key KEY] [--admin-key KEY]] [--metrics 127.0.0.1:9464] [--dashboard [PORT]] [--model-root DIR…] [--output-root DIR…] [--tls-cert PATH [--tls-key PATH] [--tls-ca PATH] [--tls-require-client-cert]]</c>:
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
        var modelRoots = new Option<string[]>("--model-root")
        {
            Description = "Confine client-sent loads and calibration files to this directory (repeatable). Without roots, client paths are not confined",
        };
        var outputRoots = new Option<string[]>("--output-root") { Description = "Allow client-sent saves inside this directory (repeatable); with roots set and none here, saves are refused" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "TLS for silo and client connections with this certificate (.pfx, or PEM with --tls-key); off by default" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var tlsPassword = new Option<string?>("--tls-password") { Description = "Password of the .pfx or encrypted key (or OrleansQuant__Tls__Password)" };
        var tlsCa = new Option<string?>("--tls-ca") { Description = "Certificate peers must chain to (default: --tls-cert itself, every silo sharing it)" };
        var tlsRequireClient = new Option<bool>("--tls-require-client-cert") { Description = "With --tls-cert: clients must present a certificate that chains to --tls-ca (mutual TLS)" };
        var command = new Command("serve", "Run a silo of an OrleansQuant cluster")
        {
            siloPort, gatewayPort, primaryPort, devices, load, http, apiKey, adminKey, metrics, dashboard,
            redis, clusterId, modelRoots, outputRoots, tlsCert, tlsKey, tlsPassword, tlsCa, tlsRequireClient,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var logging = CliLogging.For(parse);
            logging.Announce();
            var (dashboardKey, dashboardUrl) = DashboardOption.Setting(parse, dashboard);
            var settings = new Dictionary<string, string?>
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
                [$"{SiloTls.Section}:{nameof(ClusterTlsOptions.CertificatePath)}"] = parse.GetValue(tlsCert),
                [$"{SiloTls.Section}:{nameof(ClusterTlsOptions.KeyPath)}"] = parse.GetValue(tlsKey),
                [$"{SiloTls.Section}:{nameof(ClusterTlsOptions.Password)}"] = parse.GetValue(tlsPassword),
                [$"{SiloTls.Section}:{nameof(ClusterTlsOptions.TrustedCertificatePath)}"] = parse.GetValue(tlsCa),
                [$"{SiloTls.Section}:{nameof(ClusterTlsOptions.RequireClientCertificate)}"] = parse.GetValue(tlsRequireClient) ? "true" : null,
            };
            AddList(settings, $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.ModelRoots)}", parse.GetValue(modelRoots));
            AddList(settings, $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.OutputRoots)}", parse.GetValue(outputRoots));
            using var host = SiloHostFactory.Build(settings, logging);
            await host.StartAsync(cancellation);
            Console.WriteLine("silo started; Ctrl+C stops it");
            Console.WriteLine(SiloTls.Describe(host.Services.GetRequiredService<IConfiguration>()));
            Console.WriteLine(DescribeRoots(host.Services.GetRequiredService<IOptions<PathRootsOptions>>().Value));
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

    private static void AddList(Dictionary<string, string?> settings, string key, string[]? values)
    {
        for (int i = 0; i < (values?.Length ?? 0); i++)
        {
            settings[$"{key}:{i}"] = values![i];
        }
    }

    /// <summary>One line for the console: where client-sent paths may point (the log says it too, as a warning when nowhere is confined).</summary>
    private static string DescribeRoots(PathRootsOptions roots) => roots.Unconfined
        ? "client paths not confined: loads, calibration files and saves may name any path (--model-root, --output-root confine them)"
        : $"client paths confined: reads to {string.Join(", ", roots.ModelRoots.Concat(roots.OutputRoots).Select(Path.GetFullPath))}; " +
          $"saves to {(roots.OutputRoots.Count == 0 ? "nowhere (no --output-root)" : string.Join(", ", roots.OutputRoots.Select(Path.GetFullPath)))}";
}
