using System.Text.Json;
using OrleansQuant.Silo.Commands;

namespace OrleansQuant.Silo.Tests;

/// <summary>
/// `orleansquant bench --parts cluster` at CI size: the tiny model served through a local silo's layer grains on two
/// CPU devices, and through the single-process engine, in one run.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ClusterBenchTests
{
    [Fact]
    public async Task ServingThroughTheClusterMatchesTheSingleProcessAndTimesEveryHop()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orleansquant-cluster-bench-{Guid.NewGuid():N}.json");
        var run = await CliRun.Of("bench", "--parts", "cluster", "--model", "tiny", "--devices", "cpu:2", "--concurrency", "1,4",
            "--new-tokens", "8", "--prompt-tokens", "12", "--samples", "4", "--max-tokens", "16",
            "--silo-port", "11611", "--gateway-port", "30611", "--out", path);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("== serving tiny (W8A8 (gptq, SmoothQuant 0.8, self-calibrated on 4 × 16 tokens)) through one silo: 4 layers in 2 stage(s)", run.Output);
        Assert.Contains("== Orleans cost per hop of a generation step", run.Output);
        Assert.DoesNotContain("== GEMM", run.Output);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var cluster = json.RootElement.GetProperty("cluster");
        Assert.Equal(4, cluster.GetProperty("layers").GetInt32());
        int stages = cluster.GetProperty("stages").GetInt32();
        Assert.Equal(2, stages);
        Assert.Equal(2, cluster.GetProperty("devices").GetArrayLength());
        Assert.Equal(12, cluster.GetProperty("prompt_tokens").GetInt32());

        var runs = cluster.GetProperty("runs").EnumerateArray().ToArray();
        Assert.Equal([1, 4], runs.Select(r => r.GetProperty("concurrency").GetInt32()));
        foreach (var r in runs)
        {
            int concurrency = r.GetProperty("concurrency").GetInt32();
            var clustered = r.GetProperty("cluster");
            var single = r.GetProperty("single_process");
            Assert.True(clustered.GetProperty("tokens_per_s").GetDouble() > 0, clustered.ToString());
            Assert.True(single.GetProperty("tokens_per_s").GetDouble() > 0, single.ToString());
            Assert.True(clustered.GetProperty("ttft_p50_ms").GetDouble() > 0);
            Assert.True(r.GetProperty("tokens_per_s_ratio").GetDouble() > 0);

            // Greedy: the grains generate what one process does, sequence by sequence.
            var clusterIds = Ids(clustered);
            Assert.Equal(concurrency, clusterIds.Length);
            Assert.All(clusterIds, ids => Assert.InRange(ids.Length, 1, 8));
            Assert.Equal(Ids(single), clusterIds);
            Assert.True(r.GetProperty("ids_equal").GetBoolean());
            Assert.Equal(clusterIds.Sum(ids => ids.Length), clustered.GetProperty("output_tokens").GetInt32());

            // Every step makes one embedding hop, one call per stage and one head hop, and each was timed.
            long steps = r.GetProperty("steps").GetInt64();
            Assert.True(steps >= clusterIds.Max(ids => ids.Length), $"{steps} steps");
            if (concurrency == 1)
            {
                Assert.Equal(clusterIds[0].Length, steps);
            }

            var hops = r.GetProperty("hops").EnumerateArray().ToDictionary(h => h.GetProperty("kind").GetString()!);
            Assert.Equal(["embed", "stage", "head"], hops.Keys);
            Assert.Equal(steps, hops["embed"].GetProperty("count").GetInt64());
            Assert.Equal(steps * stages, hops["stage"].GetProperty("count").GetInt64());
            Assert.Equal(steps, hops["head"].GetProperty("count").GetInt64());
            Assert.Equal(2.0, hops["stage"].GetProperty("layers_per_call").GetDouble());
            foreach (var hop in hops.Values)
            {
                Assert.True(hop.GetProperty("compute_mean_ms").GetDouble() > 0, hop.ToString());
                Assert.True(hop.GetProperty("wall_mean_ms").GetDouble() >= hop.GetProperty("compute_mean_ms").GetDouble(), hop.ToString());
                Assert.Equal(hop.GetProperty("wall_mean_ms").GetDouble() - hop.GetProperty("compute_mean_ms").GetDouble(),
                    hop.GetProperty("overhead_mean_ms").GetDouble(), 6);
                Assert.True(hop.GetProperty("overhead_p50_ms").GetDouble() <= hop.GetProperty("overhead_p99_ms").GetDouble(), hop.ToString());
            }

            Assert.Equal(hops["stage"].GetProperty("overhead_mean_ms").GetDouble() / 2, hops["stage"].GetProperty("overhead_per_layer_call_ms").GetDouble(), 6);
            Assert.Equal(JsonValueKind.Null, hops["embed"].GetProperty("overhead_per_layer_call_ms").ValueKind);
        }

        File.Delete(path);
    }

    [Theory]
    [InlineData("--quantize", "fp8", "--quantize 'fp8': expected one of gptq, rtn, none")]
    [InlineData("--concurrency", "1,0", "--concurrency '1,0': expected positive whole numbers separated by commas")]
    [InlineData("--new-tokens", "0", "--new-tokens 0: expected at least 1")]
    public async Task BadServingInputIsOneLineAndExitCode2(string option, string value, string message)
    {
        var run = await CliRun.Of("bench", "--parts", "cluster", "--model", "tiny", "--devices", "cpu", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
    }

    [Theory]
    [InlineData("cuda", "cuda:0")]
    [InlineData("CPU", "cpu:1")]
    [InlineData("cuda:1", "cuda:1")]
    [InlineData("auto", "auto")]
    public void ABareKindBenchesOneDeviceOfIt(string devices, string setting) => Assert.Equal(setting, BenchCommand.Setting(devices));

    private static int[][] Ids(JsonElement path) =>
        path.GetProperty("ids").EnumerateArray().Select(ids => ids.EnumerateArray().Select(id => id.GetInt32()).ToArray()).ToArray();
}
