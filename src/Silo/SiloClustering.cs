using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using OrleansQuant.Client;

namespace OrleansQuant.Silo;

/// <summary>
/// The silo's membership: Redis when <see cref="ClusteringOptions.Redis"/> is set (a cluster of several silos, none of
/// them special), else localhost clustering through the primary silo's port (one machine, one process or a demo).
/// </summary>
internal static class SiloClustering
{
    public static ISiloBuilder UseOrleansQuantClustering(this ISiloBuilder orleans, IConfiguration configuration, int siloPort, int gatewayPort, int primaryPort)
    {
        var options = configuration.GetSection(ClusteringOptions.Section).Get<ClusteringOptions>() ?? new ClusteringOptions();

        // Failure detection settings (ProbeTimeout, NumMissedProbesLimit, …) for either kind; Orleans' defaults otherwise.
        orleans.Services.Configure<ClusterMembershipOptions>(configuration.GetSection(ClusteringOptions.MembershipSection));
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return orleans.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort));
        }

        string redis = options.Redis;
        var parsed = RedisMembership.Parse(redis, ClusteringOptions.RedisOptionName);
        var advertised = AdvertisedAddress(options, parsed);
        orleans.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        orleans.Configure<EndpointOptions>(endpoints =>
        {
            endpoints.SiloPort = siloPort;
            endpoints.GatewayPort = gatewayPort;
            if (advertised is not null)
            {
                endpoints.AdvertisedIPAddress = advertised;
            }
        });
        orleans.UseRedisClustering(o => RedisMembership.Configure(o, redis, ClusteringOptions.RedisOptionName));
        return orleans;
    }

    private static IPAddress? AdvertisedAddress(ClusteringOptions options, StackExchange.Redis.ConfigurationOptions redis)
    {
        if (!string.IsNullOrWhiteSpace(options.AdvertisedAddress))
        {
            return IPAddress.TryParse(options.AdvertisedAddress, out var address)
                ? address
                : throw new ArgumentException($"{ClusteringOptions.Section}:{nameof(ClusteringOptions.AdvertisedAddress)} '{options.AdvertisedAddress}': expected an IP address (e.g. 10.0.0.5)");
        }

        bool loopback = redis.EndPoints.All(e => e switch
        {
            IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
            DnsEndPoint dns => dns.Host is "localhost",
            _ => false,
        });
        return loopback ? IPAddress.Loopback : null;
    }
}
