using System.Collections.Concurrent;
using Orleans.TestingHost;
using Xunit.Abstractions;
using OrleansQuant.Contracts;
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

    // Every other generation samples with a seed: its draw for each token depends on the seed and the token's index
    // alone, so re-running the failed step after the recovery draws what the step drew, and the ids must match too.
    private static readonly GenerateRequest[] s_requests = s_prompts
        .Select((prompt, i) => i % 2 == 0
            ? new GenerateRequest(PromptIds: prompt, MaxTokens: MaxTokens)
            : new GenerateRequest(PromptIds: prompt, MaxTokens: MaxTokens, Temperature: 0.9f, TopP: 0.95f, Seed: 1000 + i))
        .ToArray();

    /// <param name="kill">kill the silo (no goodbye: its layers' calls fail until membership declares it dead) instead of stopping it.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Losing_a_silo_with_layers_midway_restores_them_and_every_generation_completes_with_the_no_fault_ids(bool kill)
    {
        using var store = new TempDirectory();
        await using var cluster = await StoreCluster.Start(store.Path, silos: 3);
        string name = kill ? "recover-layers-kill" : "recover-layers-stop";
        var sdk = cluster.Sdk;

        // The generations are called from the primary silo, not through the test client: a stream whose gateway is the
        // lost silo ends with it (the client's connection, not the coordinator, is what fails then). The coordinator is
        // activated from there first, as placement prefers the calling silo, so that it is unlikely to share the victim's.
        var primary = StoreCluster.Factory(cluster.Cluster.Primary!);
        await Assert.ThrowsAsync<InvalidOperationException>(() => primary.GetGrain<IModelGrain>(name).GetStatus());
        await sdk.LoadAsync(name, "tiny");
        var events = await ClusterCalls.Quantize(sdk, name, new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24));
        Assert.Equal("done", events[^1].Event.Stage);
        var model = primary.GetGrain<IModelGrain>(name);
        var before = await model.GetStatus();
        int[] versions = before.Layers.Select(l => l.Version).ToArray();
        int linears = BuildCounter.Linears(name);

        // A silo that holds layers and is not the primary (the test cluster's membership lives there); the coordinator,
        // placed wherever its first call landed, is moved to the primary, off the victim.
        var victim = cluster.Cluster.SecondarySilos.First(s => before.Layers.Any(l => l.Silo == s.SiloAddress.ToParsableString()));
        string victimAddress = victim.SiloAddress.ToParsableString();
        int[] lost = before.Layers.Where(l => l.Silo == victimAddress).Select(l => l.Layer).ToArray();
        await cluster.MoveCoordinator(name, cluster.Cluster.Primary!);

        // The no-fault ids, generated concurrently as the faulted run will be.
        var expected = await Task.WhenAll(s_requests.Select(r => ClusterCalls.Collect(model, r)));

        using var recoveries = new ModelMetric("orleansquant.layer.recovery_time", name);
        var streams = s_prompts.Select(_ => new ConcurrentQueue<int>()).ToArray();
        var started = s_prompts.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var generations = s_prompts.Select((_, i) => Task.Run(async () =>
        {
            await foreach (var token in model.Generate(s_requests[i]))
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
        if (kill)
        {
            await cluster.Cluster.KillSiloAsync(victim);
        }
        else
        {
            await cluster.Cluster.StopSiloAsync(victim);
        }

        output.WriteLine($"{(kill ? "killed" : "stopped")} {victimAddress} (layers {string.Join(",", lost)}) with {string.Join("/", atStop)} of {string.Join("/", expected.Select(e => e.Count))} tokens streamed");

        await Task.WhenAll(generations).WaitAsync(TimeSpan.FromSeconds(180));
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(expected[i], streams[i].ToList());
        }

        // The fault came midway: some stream was not done when the silo was stopped, and a recovery restored layers.
        Assert.Contains(atStop.Select((n, i) => n < expected[i].Count), unfinished => unfinished);
        var recovered = Assert.Single(recoveries.Values);
        output.WriteLine($"layers recovered in {recovered:F2} s");

        // The lost layers serve again, elsewhere, at the versions they had; nothing was calibrated or quantized again.
        var after = await model.GetStatus();
        Assert.Equal(versions, after.Layers.Select(l => l.Version).ToArray());
        Assert.All(after.Layers, l => Assert.Equal(LayerState.Serving, l.State));
        Assert.All(after.Layers, l => Assert.NotEqual(victimAddress, l.Silo));
        Assert.Equal(linears, BuildCounter.Linears(name));
        Assert.DoesNotContain(after.Jobs, j => j.Kind == "requantize");
        Assert.True(after.Jobs.Count(j => j.Kind == "quantize") <= 1, "a quantize job ran again");
        Assert.Equal(expected[1], await ClusterCalls.Collect(model, s_requests[1]));
    }
}
