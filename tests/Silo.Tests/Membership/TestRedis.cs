using System.Net.Sockets;
using System.Text;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// The Redis the membership tests use: ORLEANSQUANT_TEST_REDIS ("HOST:PORT"; .ci/run starts one and sets it), else
/// 127.0.0.1:6379. Probed once with a PING; tests that need it are skipped, with this reason, when it does not answer.
/// </summary>
internal static class TestRedis
{
    public const string Variable = "ORLEANSQUANT_TEST_REDIS";

    public static string Endpoint { get; } = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } e ? e : "127.0.0.1:6379";

    /// <summary>Why the tests cannot run, or null when Redis answered PONG.</summary>
    public static string? Unavailable { get; } = Probe();

    private static string? Probe()
    {
        int colon = Endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(Endpoint.AsSpan(colon + 1), out int port))
        {
            return $"{Variable}='{Endpoint}' is not HOST:PORT";
        }

        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync(Endpoint[..colon], port).Wait(TimeSpan.FromSeconds(2)))
            {
                return $"no Redis answers at {Endpoint} within 2 s";
            }

            var stream = client.GetStream();
            stream.ReadTimeout = 2000;
            stream.Write("PING\r\n"u8);
            var reply = new byte[64];
            int read = stream.Read(reply);
            string text = Encoding.ASCII.GetString(reply, 0, read);
            return text.StartsWith("+PONG", StringComparison.Ordinal) ? null : $"{Endpoint} answered '{text.Trim()}' to PING, not +PONG";
        }
        catch (Exception e) when (e is SocketException or IOException or AggregateException)
        {
            return $"no Redis answers at {Endpoint} ({e.GetBaseException().Message})";
        }
    }
}

/// <summary>A fact that needs Redis (<see cref="TestRedis"/>): skipped, saying why and how to run it, when none answers.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (TestRedis.Unavailable is { } reason)
        {
            Skip = $"needs Redis: {reason} (start redis-server, or set {TestRedis.Variable}=HOST:PORT; .ci/run does both)";
        }
    }
}

/// <summary>A theory that needs Redis (<see cref="TestRedis"/>): skipped, saying why, when none answers.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (TestRedis.Unavailable is { } reason)
        {
            Skip = $"needs Redis: {reason} (start redis-server, or set {TestRedis.Variable}=HOST:PORT; .ci/run does both)";
        }
    }
}
