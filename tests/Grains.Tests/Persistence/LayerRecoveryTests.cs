using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Orleans.TestingHost;
using Xunit.Abstractions;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// Issue 10: a coordinator that survives while a silo holding some of its layers goes away brings those layers back
/// from the model store on the survivors and re-prefills the sequences in flight, so every generation's stream goes on
/// with exactly the ids a run without the fault gives — without calibrating or quantizing again.
/// </summary>
public sealed class LayerRecoveryTests(ITestOutputHelper output)
{
    private static readonly int[][] s_prompts = [[0, 86, 106, 103], [0, 72, 101, 108, 108, 111], [0, 33, 34], [0, 120, 121, 122, 50], [0, 66], [0, 90, 91, 92, 93, 94, 95]];
    private const int MaxTokens = 160;

    [Fact]
    public async Task Stopping_a_silo_with_layers_midway_restores_them_and_every_generation_completes_with_the_no_fault_ids()
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        const string name = "recover-layers";
        var sdk = cluster.Sdk;
        await sdk.LoadAsync(name, "tiny");
        var events = await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24));
        Assert.Equal("done", events[^1].Event.Stage);
        var model = cluster.Cluster.Client.GetGrain<IModelGrain>(name);
        var before = await model.GetStatus();
        int[] versions = before.Layers.Select(l => l.Version).ToArray();
        int linears = BuildCounter.Linears(name);

        // The no-fault ids, generated concurrently as the faulted run will be.
        var expected = await Task.WhenAll(s_prompts.Select(p => ClusterCalls.Collect(model, p, MaxTokens)));

        // A silo that holds layers but not the coordinator, and is not the primary (the test cluster's membership lives there).
        string coordinator = await CoordinatorSilo(cluster, name);
        var victim = cluster.Cluster.SecondarySilos.FirstOrDefault(s => s.SiloAddress.ToParsableString() != coordinator
            && before.Layers.Any(l => l.Silo == s.SiloAddress.ToParsableString()));
        Assert.True(victim is not null, $"no secondary silo holds layers without the coordinator ({coordinator}): {string.Join(", ", before.Layers.Select(l => $"{l.Layer}@{l.Silo}"))}");
        string victimAddress = victim.SiloAddress.ToParsableString();
        int[] lost = before.Layers.Where(l => l.Silo == victimAddress).Select(l => l.Layer).ToArray();

        using var recoveries = new RecoveryListener(name);
        var streams = s_prompts.Select(_ => new ConcurrentQueue<int>()).ToArray();
        var started = s_prompts.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var generations = s_prompts.Select((prompt, i) => Task.Run(async () =>
        {
            await foreach (var token in model.Generate(new GenerateRequest(PromptIds: prompt, MaxTokens: MaxTokens)))
            {
                streams[i].Enqueue(token.TokenId);
                if (streams[i].Count >= 3)
                {
                    started[i].TrySetResult();
                }
            }

            started[i].TrySetResult();
        })).ToArray();

        await Task.WhenAll(started.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        int[] atStop = streams.Select(s => s.Count).ToArray();
        await cluster.Cluster.StopSiloAsync(victim);
        output.WriteLine($"stopped {victimAddress} (layers {string.Join(",", lost)}) with {string.Join("/", atStop)} of {string.Join("/", expected.Select(e => e.Count))} tokens streamed");

        await Task.WhenAll(generations).WaitAsync(TimeSpan.FromSeconds(180));
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i], streams[i].ToList());
        }

        // The fault came midway: some stream was not done when the silo was stopped, and a recovery restored layers.
        Assert.Contains(atStop.Select((n, i) => n < expected[i].Count), unfinished => unfinished);
        var recovered = Assert.Single(recoveries.Seconds);
        output.WriteLine($"layers recovered in {recovered:F2} s");

        // The lost layers serve again, elsewhere, at the versions they had; nothing was calibrated or quantized again.
        var after = await model.GetStatus();
        Assert.Equal(versions, after.Layers.Select(l => l.Version).ToArray());
        Assert.All(after.Layers, l => Assert.Equal(LayerState.Serving, l.State));
        Assert.All(after.Layers, l => Assert.NotEqual(victimAddress, l.Silo));
        Assert.Equal(linears, BuildCounter.Linears(name));
        Assert.Single(after.Jobs, j => j.Kind == "quantize");
        Assert.Equal(expected[0], await ClusterCalls.Collect(model, s_prompts[0], MaxTokens));
    }

    private static async Task<string> CoordinatorSilo(StoreCluster cluster, string name)
    {
        var stats = await cluster.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Single(s => s.GrainId.ToString() == cluster.Cluster.Client.GetGrain<IModelGrain>(name).GetGrainId().ToString()).SiloAddress.ToParsableString();
    }

    /// <summary>The recovery times the coordinator records for <paramref name="model"/> (the silos run in this process).</summary>
    private sealed class RecoveryListener : IDisposable
    {
        private readonly MeterListener _listener = new();

        public RecoveryListener(string model)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == OrleansQuantMetrics.MeterName && instrument.Name == "orleansquant.layer.recovery_time")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Value as string == model)
                    {
                        Seconds.Add(value);
                    }
                }
            });
            _listener.Start();
        }

        public ConcurrentBag<double> Seconds { get; } = new();

        public void Dispose() => _listener.Dispose();
    }
}
