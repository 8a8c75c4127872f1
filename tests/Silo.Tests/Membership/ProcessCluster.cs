using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using StackExchange.Redis;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// Real <c>orleansquant serve</c> processes as an operator runs a cluster that outlives its silos: Redis membership
/// (a cluster id of its own per run), the model store in a directory every silo shares, and grain state in Redis
/// (<c>OrleansQuant__Store__…</c>), plus an SDK client that finds the gateways in Redis and logs to <see cref="ClientLog"/>.
/// Every process is killed on dispose, and the Redis keys of this run are deleted.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly List<SiloProcess> _silos = new();
    private readonly List<IHost> _clients = new();
    private readonly List<string> _clusterIds = new();

    private ProcessCluster(string storeDirectory, string model)
    {
        StoreDirectory = storeDirectory;
        Model = model;
    }

    /// <summary>The model's name in the cluster; grain state in Redis outlives runs, so each run has its own.</summary>
    public string Model { get; }

    public string StoreDirectory { get; }

    public string ClusterId { get; private set; } = "";

    /// <summary>The silos started so far, dead ones included.</summary>
    public IReadOnlyList<SiloProcess> Silos => _silos;

    public IReadOnlyList<SiloProcess> Live => _silos.Where(s => !s.HasExited).ToArray();

    public OrleansQuantClient Sdk { get; private set; } = null!;

    /// <summary>What the SDK client logged (resumed generations, at warning), one line each.</summary>
    public ConcurrentQueue<string> ClientLog { get; } = new();

    public static async Task<ProcessCluster> Start(string prefix, int silos = 3)
    {
        string store = Path.Combine(Path.GetTempPath(), $"oq-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(store);
        var cluster = new ProcessCluster(store, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        try
        {
            await cluster.StartSilos(silos);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Starts <paramref name="count"/> silos of a new cluster id on the same store and Redis, and connects a client to them.</summary>
    public async Task StartSilos(int count)
    {
        ClusterId = $"test-{Guid.NewGuid():N}";
        _clusterIds.Add(ClusterId);
        var environment = new Dictionary<string, string>
        {
            ["OrleansQuant__Store__Directory"] = StoreDirectory,
            ["OrleansQuant__Store__GrainStorage"] = "redis",
            ["OrleansQuant__Store__RedisConnectionString"] = TestRedis.Endpoint,
        };

        // The first one creates the cluster's membership table; the others join it.
        var first = Add(SiloProcess.Start(TestRedis.Endpoint, ClusterId, FreePort.Next(), FreePort.Next(), environment));
        await first.WaitStartedAsync(StartTimeout);
        var others = Enumerable.Range(1, count - 1).Select(_ => Add(SiloProcess.Start(TestRedis.Endpoint, ClusterId, FreePort.Next(), FreePort.Next(), environment))).ToArray();
        await Task.WhenAll(others.Select(s => s.WaitStartedAsync(StartTimeout)));
        Sdk = await Connect();
        await Until(async () => (await Sdk.Cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == count, StartTimeout, $"{count} active silos");
    }

    /// <summary>SIGKILL to every live silo, as when the machines lose power.</summary>
    public void KillAll()
    {
        foreach (var silo in Live)
        {
            silo.Kill();
        }
    }

    /// <summary>The silo process whose silo address is <paramref name="address"/> ("127.0.0.1:PORT@GENERATION").</summary>
    public SiloProcess Process(string address) =>
        _silos.Single(s => !s.HasExited && address.StartsWith($"127.0.0.1:{s.SiloPort}@", StringComparison.Ordinal));

    /// <summary>Where the model's coordinator (its model grain) is activated now.</summary>
    public async Task<string> CoordinatorSilo()
    {
        var id = Sdk.Model(Model).GetGrainId();
        var statistics = await Sdk.Cluster.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return Assert.Single(statistics, s => s.GrainId == id).SiloAddress.ToParsableString();
    }

    /// <summary>Each silo's log, for failure messages.</summary>
    public string Logs() => string.Join("\n", _silos.Select(s => $"--- silo {s.SiloPort} (exited: {s.HasExited}) ---\n{s.Output}"));

    /// <summary>Polls <paramref name="done"/> until it holds, failing after <paramref name="timeout"/>; a call that fails meanwhile is tried again.</summary>
    public static async Task Until(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        Exception? last = null;
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < timeout; await Task.Delay(250))
        {
            try
            {
                if (await done().WaitAsync(TimeSpan.FromSeconds(10)))
                {
                    return;
                }
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or InvalidOperationException)
            {
                last = e;
            }
        }

        throw new TimeoutException($"not {what} within {timeout.TotalSeconds} s{(last is null ? "" : $"; last error: {last.Message}")}");
    }

    private SiloProcess Add(SiloProcess silo)
    {
        _silos.Add(silo);
        return silo;
    }

    private async Task<OrleansQuantClient> Connect()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new QueueLoggerProvider(ClientLog));
        builder.Logging.AddFilter<QueueLoggerProvider>("Orleans", LogLevel.None);
        builder.Logging.AddFilter<QueueLoggerProvider>("OrleansQuant", LogLevel.Information);
        builder.AddOrleansQuantClient(o =>
        {
            o.Redis = TestRedis.Endpoint;
            o.ClusterId = ClusterId;
            o.ConnectTimeout = TimeSpan.FromSeconds(20);
            o.Resume.Window = TimeSpan.FromSeconds(90);
        });
        var host = builder.Build();
        await host.StartAsync();
        _clients.Add(host);
        return host.Services.GetRequiredService<OrleansQuantClient>();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            try
            {
                await client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException)
            {
                // Its silos are gone; there is nothing to say goodbye to.
            }

            client.Dispose();
        }

        foreach (var silo in _silos)
        {
            silo.Dispose();
        }

        try
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(TestRedis.Endpoint);
            var db = redis.GetDatabase();
            foreach (var server in redis.GetServers())
            {
                await foreach (var key in server.KeysAsync(pattern: $"*{Model}*"))
                {
                    await db.KeyDeleteAsync(key);
                }

                await foreach (var key in server.KeysAsync(pattern: "*/members/test-*"))
                {
                    // Only this run's cluster ids: other runs may share the Redis.
                    if (_clusterIds.Any(id => key.ToString().EndsWith(id, StringComparison.Ordinal)))
                    {
                        await db.KeyDeleteAsync(key);
                    }
                }
            }
        }
        catch (RedisException)
        {
            // Keys left behind are of this run's ids alone; they harm no other run.
        }

        try
        {
            Directory.Delete(StoreDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A silo killed while writing may hold a file open a moment longer; the directory is in the temp directory.
        }
    }
}
