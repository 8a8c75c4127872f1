using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansQuant.Contracts;
using Xunit.Abstractions;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// Issue 10: a whole cluster restarted on the same store serves the quantized model without calibrating. Three
/// <c>serve</c> processes quantize the tiny demo model; all three are killed with SIGKILL; three new ones start on the
/// same store and the same Redis grain state, under a new cluster id (the old id's membership table still lists the
/// three dead silos as active, and a new silo would first have to wait for them to be voted dead). The first call
/// reactivates the coordinator, whose restoring load brings every layer back from the store.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ProcessRestartTests(ITestOutputHelper output)
{
    private const int MaxTokens = 16;
    private static readonly int[][] s_prompts = [[0, 86, 106, 103], [0, 72, 101, 108, 108, 111], [0, 33, 34], [0, 120, 121, 122, 50]];

    [RedisFact]
    public async Task Restarting_all_three_silos_on_the_same_store_serves_the_same_greedy_ids_without_calibration_or_gptq()
    {
        var test = Stopwatch.StartNew();
        await using var cluster = await ProcessCluster.Start("restart");
        string model = cluster.Model;
        var before = await QuantizeAndGenerate(cluster);
        int[] versions = before.Status.Layers.Select(l => l.Version).ToArray();
        output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: quantized, versions {string.Join(",", versions)}");

        string firstClusterId = cluster.ClusterId;
        int firstSilos = cluster.Silos.Count;
        cluster.KillAll();
        var restart = Stopwatch.StartNew();
        await cluster.StartSilos(3);
        output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: all killed; 3 new silos up as cluster {cluster.ClusterId} (was {firstClusterId}) in {restart.Elapsed.TotalSeconds:0.0} s");

        // The first call reactivates the coordinator; status waits for its restoring load.
        ModelStatus after = null!;
        await ProcessCluster.Until(async () => (after = await cluster.Sdk.StatusAsync(model)).Layers.Count == versions.Length, TimeSpan.FromSeconds(90),
            "the model restored after the restart");
        var restored = restart.Elapsed;
        var ids = await new Generations(cluster.Sdk, model, s_prompts, MaxTokens).Run().WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"RESTART: model serving {restored.TotalSeconds:0.0} s after the new silos were started (silo start-up included)");

        Assert.Equal(versions, after.Layers.Select(l => l.Version).ToArray());
        Assert.All(after.Layers, l => Assert.Equal(LayerState.Serving, l.State));
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(before.Ids[i], ids[i]);
        }

        // No calibration or GPTQ: the new coordinator ran only its restoring load, and every layer of the new silos
        // loaded its committed version from the store; none of them logged a build.
        var restarted = cluster.Silos.Skip(firstSilos).ToArray();
        Assert.Equal(["load"], after.Jobs.Select(j => j.Kind).ToArray());
        Assert.Contains(restarted, s => s.Log.Contains($"Model {model} reactivated with a record: restoring", StringComparison.Ordinal));
        for (int layer = 0; layer < versions.Length; layer++)
        {
            Assert.Contains(restarted, s => Regex.IsMatch(s.Log, $@"Layer {layer} loaded on \S+ device \d+ \(Serving, version {versions[layer]} from the model store\)"));
        }

        Assert.All(restarted, s => Assert.DoesNotContain("built W8A8 weights", s.Log, StringComparison.Ordinal));
        output.WriteLine($"{test.Elapsed.TotalSeconds:0.0} s: done");
    }

    private static async Task<(ModelStatus Status, List<int>[] Ids)> QuantizeAndGenerate(ProcessCluster cluster)
    {
        await cluster.Sdk.LoadAsync(cluster.Model, "tiny").WaitAsync(TimeSpan.FromSeconds(90));
        await ProcessFaultTests.Quantize(cluster.Sdk, cluster.Model);
        var status = await cluster.Sdk.StatusAsync(cluster.Model);
        var ids = await new Generations(cluster.Sdk, cluster.Model, s_prompts, MaxTokens).Run().WaitAsync(TimeSpan.FromSeconds(60));
        return (status, ids);
    }
}
