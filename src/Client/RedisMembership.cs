using Orleans.Clustering.Redis;
using StackExchange.Redis;

namespace OrleansQuant.Client;

/// <summary>
/// Membership in Redis, shared by silos and clients: every silo writes its row (address, status, heartbeats, suspicion
/// votes) to one Redis hash per cluster, <c>{ServiceId}/members/{ClusterId}</c>, and clients read the live gateways from
/// it. Unlike localhost clustering, whose table lives in the primary silo's memory, no silo is special: any may die or
/// restart and the table, with its version, stays.
/// </summary>
public static class RedisMembership
{
    /// <summary>
    /// Reads a setting as a StackExchange.Redis connection string: "HOST:PORT" or more ("HOST:PORT,password=…,ssl=true").
    /// </summary>
    /// <param name="option">where the setting came from, for the error (e.g. "--redis (OrleansQuant:Clustering:Redis)").</param>
    public static ConfigurationOptions Parse(string connection, string option)
    {
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(connection);
        }
        catch (ArgumentException e)
        {
            throw new RedisMembershipException($"{option} '{connection}': expected a Redis endpoint HOST:PORT (e.g. 127.0.0.1:6379) or a StackExchange.Redis connection string: {e.Message}", e);
        }

        if (parsed.EndPoints.Count == 0)
        {
            throw new RedisMembershipException($"{option} '{connection}': expected a Redis endpoint HOST:PORT (e.g. 127.0.0.1:6379), found none");
        }

        // Fail at start, not later: without this StackExchange.Redis keeps retrying in the background and Orleans
        // sees a table that is never there.
        parsed.AbortOnConnectFail = true;
        return parsed;
    }

    /// <summary>
    /// Orleans' own connect, whose failure (StackExchange.Redis' "It was not possible to connect to the redis server(s)")
    /// says neither which setting nor what to do; this one says both.
    /// </summary>
    public static Func<RedisClusteringOptions, Task<(IConnectionMultiplexer Multiplexer, bool IsShared)>> Connector(string option) => async options =>
    {
        try
        {
            return await RedisClusteringOptions.DefaultCreateMultiplexer(options);
        }
        catch (RedisConnectionException e)
        {
            throw Unreachable(option, options.ConfigurationOptions, e);
        }
    };

    /// <summary>Configures <paramref name="redis"/> to reach the Redis at <paramref name="connection"/>, reporting failures as <paramref name="option"/>'s.</summary>
    public static void Configure(RedisClusteringOptions redis, string connection, string option)
    {
        redis.ConfigurationOptions = Parse(connection, option);
        redis.CreateMultiplexer = Connector(option);
    }

    /// <summary>The error for a Redis that does not answer, naming the option, the endpoints and the way out.</summary>
    public static RedisMembershipException Unreachable(string option, ConfigurationOptions? configuration, Exception inner) => new(
        $"{option}: no Redis answers at {Endpoints(configuration)} within {configuration?.ConnectTimeout ?? 5000} ms " +
        "(start redis-server there, or leave the option out for localhost clustering of one machine)", inner);

    private static string Endpoints(ConfigurationOptions? configuration) =>
        configuration is null ? "(no endpoint)" : string.Join(", ", configuration.EndPoints.Select(Format));

    private static string Format(System.Net.EndPoint endpoint) => endpoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString() ?? "?",
    };
}
