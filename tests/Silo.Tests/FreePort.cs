using System.Net;
using System.Net.Sockets;

namespace OrleansQuant.Silo.Tests;

/// <summary>A loopback TCP port no one listens on now, for a test's silo, gateway or HTTP server.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
