using OrleansQuant.Silo.Errors;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>A Redis that does not answer, given to a silo or the operator's client: one line naming the option. No Redis needed.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class RedisOptionErrorTests
{
    [Fact]
    public async Task Serve_with_an_unreachable_redis_fails_at_start_naming_the_option()
    {
        string redis = $"127.0.0.1:{FreePort.Next()}";

        var run = await CliRun.Of("serve", "--redis", redis, "--silo-port", $"{FreePort.Next()}", "--gateway-port", $"{FreePort.Next()}", "--devices", "cpu:1");

        Assert.Equal(ExpectedError.Failed, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Equal($"error: --redis (OrleansQuant:Clustering:Redis): no Redis answers at {redis} within 5000 ms " +
            "(start redis-server there, or leave the option out for localhost clustering of one machine)", error);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), $"took {run.Elapsed}");
    }

    [Fact]
    public async Task Cluster_status_with_an_unreachable_redis_says_so_naming_the_option()
    {
        string redis = $"127.0.0.1:{FreePort.Next()}";

        var run = await CliRun.Of("cluster", "status", "--redis", redis, "--connect-timeout", "10");

        Assert.Equal(ExpectedError.Failed, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith($"error: --redis: no Redis answers at {redis}", error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task A_redis_setting_that_is_not_an_endpoint_is_refused_naming_it()
    {
        var run = await CliRun.Of("cluster", "status", "--redis", ",,,");

        var error = Assert.Single(run.ErrorLines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith("error: --redis ',,,': expected a Redis endpoint HOST:PORT (e.g. 127.0.0.1:6379)", error);
    }
}
