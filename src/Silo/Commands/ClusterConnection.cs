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
