using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansQuant.Client;

/// <summary>
/// Retries a failed first connection to the gateways until <see cref="OrleansQuantClientOptions.ConnectTimeout"/>,
/// then fails naming them. Orleans' default gives up at once with an error that does not say where it looked.
/// </summary>
internal sealed class ConnectTimeoutRetryFilter(IOptions<OrleansQuantClientOptions> options, ILogger<ConnectTimeoutRetryFilter> logger) : IClientConnectionRetryFilter
{
    private static readonly TimeSpan s_pause = TimeSpan.FromMilliseconds(250);

    // The clock starts at the first failure: the filter is only asked once one attempt has failed.
    private readonly Stopwatch _clock = new();

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (exception is RedisMembershipException)
        {
            // Redis itself did not answer (StackExchange.Redis already waited its connect timeout): say so now, not as a missing gateway.
            return false;
        }

        _clock.Start();
        if (_clock.Elapsed + s_pause >= settings.ConnectTimeout)
        {
            throw NoGateway(settings, exception);
        }

        logger.LogDebug(exception, "No gateway of {Gateways} answered yet; retrying for {Left}", settings.GatewaySource, settings.ConnectTimeout - _clock.Elapsed);
        await Task.Delay(s_pause, cancellationToken);
        return true;
    }

    public static TimeoutException NoGateway(OrleansQuantClientOptions settings, Exception? inner) => new(
        $"no OrleansQuant silo answers at {settings.GatewaySource} within {settings.ConnectTimeout.TotalSeconds:0.#} s " +
        $"(cluster '{settings.ClusterId}', service '{settings.ServiceId}'; is 'orleansquant serve' running there, and does its TLS match this client's: " +
        $"TLS {(settings.Tls.ClientEnabled ? "on" : "off")} here, {OrleansQuantClientOptions.Section}:Tls?)", inner);
}
