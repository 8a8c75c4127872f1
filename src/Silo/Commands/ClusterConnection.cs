using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using OrleansQuant.Client;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// Connects the CLI's client to the gateway on this machine, failing within <c>timeout</c> when no silo answers:
/// Orleans' client otherwise retries for ever (its cluster-manifest loop waits for a live gateway and never throws).
/// </summary>
internal static class ClusterConnection
{
    /// <summary><c>--redis HOST:PORT</c>: the Redis that holds the cluster's membership (serve: where this silo registers; cluster: where the client finds gateways).</summary>
    public static Option<string?> RedisOption() => new("--redis")
    {
        Description = "Redis endpoint HOST:PORT holding the cluster's membership (several silos, no primary); without it, localhost clustering",
        Recursive = true,
    };

    /// <summary><c>--cluster-id ID</c>: which cluster in that Redis; silos and clients must agree.</summary>
    public static Option<string?> ClusterIdOption() => new("--cluster-id")
    {
        Description = "With --redis: the cluster's id in Redis (default)",
        Recursive = true,
    };

    /// <summary>
    /// Connects through the Redis membership at <paramref name="redis"/> when given (any live gateway of cluster
    /// <paramref name="clusterId"/>; <paramref name="gatewayPort"/> is not used), else to the gateway on this machine.
    /// </summary>
    public static Task<(OrleansQuantClient Client, IHost Host)> ConnectAsync(int gatewayPort, string? redis, string? clusterId, TimeSpan timeout,
        CliLogging logging, CancellationToken cancellation, ClusterTlsOptions? tls = null) =>
        string.IsNullOrWhiteSpace(redis)
            ? ConnectAsync(gatewayPort, timeout, logging, cancellation, tls)
            : ConnectThroughRedisAsync(redis, clusterId ?? "default", timeout, logging, cancellation, tls);

    private static async Task<(OrleansQuantClient Client, IHost Host)> ConnectThroughRedisAsync(string redis, string clusterId, TimeSpan timeout,
        CliLogging logging, CancellationToken cancellation, ClusterTlsOptions? tls)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        logging.Configure(builder.Logging);
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();

        // The SDK's registration: its retry filter gives up after 'timeout' naming the Redis, and a Redis that does
        // not answer is reported as such (RedisMembershipException), both as one line.
        builder.AddOrleansQuantClient(o =>
        {
            o.Redis = redis;
            o.ClusterId = clusterId;
            o.ConnectTimeout = timeout;
            o.Tls = tls ?? new ClusterTlsOptions();
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch (RedisMembershipException e)
        {
            host.Dispose();
            throw new RedisMembershipException(e.Message.Replace($"{OrleansQuantClientOptions.Section}:Redis", "--redis"), e);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return (host.Services.GetRequiredService<OrleansQuantClient>(), host);
    }

    public static async Task<(OrleansQuantClient Client, IHost Host)> ConnectAsync(int gatewayPort, TimeSpan timeout, CliLogging logging, CancellationToken cancellation, ClusterTlsOptions? tls = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var provider = new ServiceProviderCapture();
        try
        {
            return await OrleansQuantClient.ConnectLocalhostAsync(gatewayPort, builder =>
            {
                builder.ConfigureLogging(logging.Configure);
                builder.ConfigureServices(services => services.AddSingleton<IHostLifetime, CommandLifetime>().AddClientTls(tls));
                builder.UseServiceProviderFactory(provider);
            }, deadline.Token);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && (deadline.IsCancellationRequested || e is ConnectionFailedException or OrleansMessageRejectionException))
        {
            // The half-started client keeps polling for a gateway until its services are disposed.
            await provider.DisposeAsync();
            throw new TimeoutException($"no silo answers at gateway port {gatewayPort} (is 'orleansquant serve' running, and does its TLS match: TLS {(tls is { ClientEnabled: true } ? "on" : "off")} here, --tls?)", e);
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    /// <summary>Builds the client host's services as the default factory does, and keeps them to dispose when the host never reaches the caller.</summary>
    private sealed class ServiceProviderCapture : IServiceProviderFactory<IServiceCollection>, IAsyncDisposable
    {
        private ServiceProvider? _provider;

        public IServiceCollection CreateBuilder(IServiceCollection services) => services;

        public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder) =>
            _provider = containerBuilder.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = false });

        public ValueTask DisposeAsync() => _provider?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
