using System.Net;
using System.Net.Sockets;

namespace OrleansQuant.Client;

/// <summary>Turns the "host:port" gateways of <see cref="OrleansQuantClientOptions"/> into the endpoints Orleans' static clustering wants.</summary>
internal static class GatewayEndpoints
{
    public static IPEndPoint Parse(string gateway)
    {
        string field = $"{OrleansQuantClientOptions.Section}:{nameof(OrleansQuantClientOptions.Gateways)}";
        if (IPEndPoint.TryParse(gateway, out var endpoint) && endpoint.Port > 0)
        {
            return endpoint;
        }

        int colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), out int port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"{field}: gateway '{gateway}' is not host:port (e.g. 127.0.0.1:30000)");
        }

        string host = gateway[..colon];

        // Orleans needs an address: a host name is resolved once, preferring IPv4 as silos listen on it by default.
        var addresses = Dns.GetHostAddresses(host);
        var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new FormatException($"{field}: gateway host '{host}' resolves to no address");
        return new IPEndPoint(address, port);
    }
}
