using System.Text.Json;

namespace OrleansQuant.Silo.Tests;

/// <summary>`orleansquant bench` on the CPU device at the tiny shapes: the tables, and JSON that deploy/bench_compare.py reads.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class BenchCommandTests
{
    [Fact]
    public async Task BenchTimesEveryPartAndWritesTheJsonTheComparisonReads()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orleansquant-bench-{Guid.NewGuid():N}", "ours.json");
        var run = await CliRun.Of("bench", "--devices", "cpu", "--shapes", "tiny", "--iterations", "2", "--out", path);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(60), $"took {run.Elapsed}");
        Assert.Contains("== bench on cpu:0", run.Output);
        Assert.Contains("== GEMM", run.Output);
        Assert.Contains("== decoder layer prefill", run.Output);
        Assert.Contains("== decoder layer decode", run.Output);
        Assert.Contains("== GPTQ of one linear", run.Output);
        Assert.Contains($"results: {path}", run.Output);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        foreach (string key in new[] { "device", "device_id", "orleansquant", "dotnet", "date", "command", "fp_type" })
        {
            Assert.False(string.IsNullOrEmpty(root.GetProperty(key).GetString()), key);
        }

        Assert.Equal("tiny", root.GetProperty("shapes").GetProperty("name").GetString());
        Assert.Equal(2, root.GetProperty("iterations").GetInt32());
        Assert.True(root.GetProperty("copy").GetProperty("gb_per_s").GetDouble() > 0);

        // bench_torch.py's rows: token counts × the four fused linears, with its key names where the same thing is timed.
        var gemm = root.GetProperty("gemm").EnumerateArray().ToArray();
        Assert.Equal(3 * 4, gemm.Length);
        Assert.Equal(["qkv", "o", "gate_up", "down"], gemm.Take(4).Select(r => r.GetProperty("op").GetString()));
        Assert.Equal([1, 16, 64], gemm.Select(r => r.GetProperty("tokens").GetInt32()).Distinct());
        Assert.Contains(gemm, r => r.GetProperty("op").GetString() == "down" && r.GetProperty("k").GetInt32() == 160 && r.GetProperty("n").GetInt32() == 64);
        AllPositive(gemm, "fp_ms", "int8_ms", "quantize_ms", "w8a8_linear_ms");

        var prefill = root.GetProperty("layer_prefill").EnumerateArray().ToArray();
        Assert.Equal([1, 16, 64], prefill.Select(r => r.GetProperty("tokens").GetInt32()));
        AllPositive(prefill, "fp_ms", "w8a8_ms");

        var decode = root.GetProperty("layer_decode").EnumerateArray().ToArray();
        Assert.Equal([1, 4], decode.Select(r => r.GetProperty("batch").GetInt32()));
        Assert.All(decode, r => Assert.Equal(32, r.GetProperty("context").GetInt32()));
        AllPositive(decode, "fp_ms", "w8a8_ms");

        var layer = root.GetProperty("layer");
        Assert.True(layer.GetProperty("int8_weight_bytes").GetInt64() < layer.GetProperty("fp_weight_bytes").GetInt64());
        Assert.True(layer.GetProperty("decode_floor_ms").GetDouble() > 0);

        var gptq = root.GetProperty("gptq").EnumerateArray().ToArray();
        Assert.Equal(["o", "down"], gptq.Select(r => r.GetProperty("op").GetString()));
        AllPositive(gptq, "ms");
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public async Task PartsAndListsNarrowTheRun()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orleansquant-bench-{Guid.NewGuid():N}.json");
        var run = await CliRun.Of("bench", "--devices", "cpu", "--shapes", "tiny", "--iterations", "1", "--warmup", "0",
            "--parts", "gemm", "--tokens", "3,5", "--out", path);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal([3, 3, 3, 3, 5, 5, 5, 5], json.RootElement.GetProperty("gemm").EnumerateArray().Select(r => r.GetProperty("tokens").GetInt32()));
        Assert.Empty(json.RootElement.GetProperty("layer_prefill").EnumerateArray());
        Assert.Empty(json.RootElement.GetProperty("gptq").EnumerateArray());
        Assert.DoesNotContain("== GPTQ", run.Output);
        File.Delete(path);
    }

    [Theory]
    [InlineData("--shapes", "llama3-70b", "--shapes 'llama3-70b' is not known; expected one of llama3-8b, tiny")]
    [InlineData("--tokens", "16,0", "--tokens '16,0': expected positive whole numbers separated by commas")]
    [InlineData("--parts", "gemm,attention", "--parts 'gemm,attention': expected some of gemm, layer, gptq, quantize, cluster")]
    [InlineData("--context", "4", "--context 4 leaves no prompt before 3 warm-up and 2 timed decode steps")]
    public async Task BadInputIsOneLineAndExitCode2(string option, string value, string message)
    {
        var options = new Dictionary<string, string> { ["--devices"] = "cpu", ["--shapes"] = "tiny", ["--iterations"] = "2", ["--parts"] = "layer" };
        options[option] = value;
        var run = await CliRun.Of(["bench", .. options.SelectMany(o => new[] { o.Key, o.Value })]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
    }

    private static void AllPositive(IEnumerable<JsonElement> rows, params string[] keys)
    {
        foreach (var row in rows)
        {
            foreach (string key in keys)
            {
                Assert.True(row.GetProperty(key).GetDouble() > 0, $"{key} in {row}");
            }
        }
    }
}
