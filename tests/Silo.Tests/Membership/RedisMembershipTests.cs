using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansQuant.Client;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// Issue 10's membership report, on real <c>orleansquant serve</c> processes with Redis membership on loopback: with
/// localhost clustering, killing the primary silo made the survivor fail every call, and restarting it made the
/// survivor stop ("membership table version decreased"). Here the first-started silo is killed with SIGKILL and
/// restarted; the others must go on answering, declare it dead within a bounded time, and take it back.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RedisMembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(45);

    // 2 missed probes of 2 s (SiloProcess), then the votes of both survivors and a table write: well under this.
    private static readonly TimeSpan s_declareDead = TimeSpan.FromSeconds(30);

    [RedisFact]
    public async Task Killing_the_first_silo_leaves_the_others_serving_and_a_restart_rejoins_without_stopping_them()
    {
        // Redis keys are shared by every run against this Redis: a cluster of its own.
        string clusterId = $"test-{Guid.NewGuid():N}";
        var silos = new List<SiloProcess>();
        var test = Stopwatch.StartNew();
        try
        {
            var first = Start(clusterId, silos, FreePort.Next(), FreePort.Next());
            await first.WaitStartedAsync(s_start);
            var others = new[] { Start(clusterId, silos, FreePort.Next(), FreePort.Next()), Start(clusterId, silos, FreePort.Next(), FreePort.Next()) };
            await Task.WhenAll(others.Select(s => s.WaitStartedAsync(s_start)));
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: 3 silos up");

            using var client = await ConnectAsync(clusterId);
            var sdk = client.Services.GetRequiredService<OrleansQuantClient>();
            var management = sdk.Cluster.GetGrain<IManagementGrain>(0);
            var loaded = await sdk.LoadAsync("default", "tiny").WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(4, loaded.Layers.Count);
            var active = await Until(management, hosts => hosts.Count(h => h.Status == SiloStatus.Active) == 3, s_start, "3 active silos");
            var firstAddress = Assert.Single(active, h => h.SiloAddress.Endpoint.Port == first.SiloPort).SiloAddress;
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: tiny loaded, {firstAddress} to be killed");

            first.Kill();
            var clock = Stopwatch.StartNew();
            await Until(management, hosts => hosts.Any(h => h.SiloAddress.Equals(firstAddress) && h.Status == SiloStatus.Dead), s_declareDead, $"{firstAddress} declared dead");
            var declaredDead = clock.Elapsed;
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: {firstAddress} declared dead {declaredDead.TotalSeconds:0.0} s after SIGKILL");
            Assert.True(declaredDead < s_declareDead, $"declared dead after {declaredDead}");
            Assert.All(others, s => Assert.False(s.HasExited, $"silo {s.SiloPort} exited:\n{s.Output}"));

            // The operator's client finds a live gateway in Redis, and a load runs on the survivors alone.
            var load = await CliRun.Of("cluster", "load", "--model", "tiny", "--name", "after-kill",
                "--redis", TestRedis.Endpoint, "--cluster-id", clusterId, "--connect-timeout", "20");
            Assert.True(load.ExitCode == 0, $"cluster load exited {load.ExitCode}: {load.Error}");
            Assert.DoesNotContain($"127.0.0.1:{first.SiloPort}@", load.Output);
            Assert.Contains(others, s => load.Output.Contains($"127.0.0.1:{s.SiloPort}@", StringComparison.Ordinal));
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: 'cluster load' on the survivors:\n{load.Output}");

            // The first silo again, on its old ports: a new generation of the same endpoint.
            var restarted = Start(clusterId, silos, first.SiloPort, first.GatewayPort);
            await restarted.WaitStartedAsync(s_start);
            active = await Until(management, hosts => hosts.Count(h => h.Status == SiloStatus.Active) == 3, s_start, "the restarted silo active");
            var rejoined = Assert.Single(active, h => h.SiloAddress.Endpoint.Port == first.SiloPort && h.Status == SiloStatus.Active).SiloAddress;
            Assert.Equal(SiloStatus.Dead, Assert.Single(active, h => h.SiloAddress.Equals(firstAddress)).Status);
            Assert.True(rejoined.Generation > firstAddress.Generation, $"{rejoined} is not a newer generation than {firstAddress}");
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: {rejoined} joined");

            // Localhost clustering's survivor stopped here, reading a table whose version went back to 0.
            var status = await sdk.StatusAsync("after-kill").WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(4, status.Layers.Count);
            Assert.All(others, s => Assert.False(s.HasExited, $"silo {s.SiloPort} exited after the restart:\n{s.Output}"));
            Assert.All(others.Append(restarted), s => Assert.DoesNotContain("version decreased", File.ReadAllText(s.LogFile!), StringComparison.OrdinalIgnoreCase));
            output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: done");
        }
        finally
        {
            foreach (var silo in silos)
            {
                silo.Dispose();
            }

            using var redis = await ConnectionMultiplexer.ConnectAsync(TestRedis.Endpoint);
            await redis.GetDatabase().KeyDeleteAsync($"default/members/{clusterId}");
        }
    }

    private static SiloProcess Start(string clusterId, List<SiloProcess> silos, int siloPort, int gatewayPort)
    {
        var silo = SiloProcess.Start(TestRedis.Endpoint, clusterId, siloPort, gatewayPort);
        silos.Add(silo);
        return silo;
    }

    /// <summary>A .NET host with the SDK registered as a service would, finding the gateways in Redis.</summary>
    private static async Task<IHost> ConnectAsync(string clusterId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.AddOrleansQuantClient(o =>
        {
            o.Redis = TestRedis.Endpoint;
            o.ClusterId = clusterId;
            o.ConnectTimeout = TimeSpan.FromSeconds(20);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>
    /// Reads the membership (every silo, dead ones too) until <paramref name="done"/> holds, failing after
    /// <paramref name="timeout"/> with the last view. A read that fails or hangs (its grain on the killed silo) is retried.
    /// </summary>
    private static async Task<MembershipEntry[]> Until(IManagementGrain management, Func<MembershipEntry[], bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        MembershipEntry[] hosts = [];
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                hosts = await management.GetDetailedHosts(onlyActive: false).WaitAsync(TimeSpan.FromSeconds(3));
                if (done(hosts))
                {
                    return hosts;
                }
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                last = e;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"not {what} within {timeout.TotalSeconds} s; membership: " +
            string.Join(", ", hosts.Select(h => $"{h.SiloAddress} {h.Status}")) + (last is null ? "" : $"; last error: {last.Message}"));
    }
}
