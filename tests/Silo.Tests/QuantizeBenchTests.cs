using System.Text.Json;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Silo.Bench;

namespace OrleansQuant.Silo.Tests;

/// <summary>
/// `orleansquant bench --parts quantize`: the end-to-end quantization through a local silo, in CI size (the tiny
/// synthetic model on CPU devices) — every stage timed, the table, the JSON, the optional save — and its pieces.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class QuantizeBenchTests
{
    private static readonly string[] Stages = ["load", "sample", "calibrate", "build", "commit"];

    [Fact]
    public async Task A_synthetic_model_is_quantized_end_to_end_with_every_stage_timed_and_saved_only_when_asked()
    {
        string root = Path.Combine(Path.GetTempPath(), $"orleansquant-qbench-{Guid.NewGuid():N}");
        string json = Path.Combine(root, "quantize.json"), saved = Path.Combine(root, "w8a8");
        try
        {
            var run = await CliRun.Of("bench", "--parts", "quantize", "--model", "synthetic:tiny", "--devices", "cpu:2", "--samples", "4",
                "--max-tokens", "12", "--save", saved, "--out", json, "--silo-port", "11451", "--gateway-port", "30451");

            Assert.True(run.ExitCode == 0, run.Output + run.Error);
            Assert.Contains("== quantize synthetic:tiny end to end on cpu:2: 4 layers, self-calibration 4 × 12 tokens, layer-parallel", run.Output);
            Assert.Contains("estimated device memory at peak", run.Output);
            Assert.Contains("all 4 layers quantized", run.Output);
            foreach (string stage in Stages.Append("save").Append("total"))
            {
                Assert.Matches($@"(?m)^{stage} +[0-9.]+", run.Output);
            }

            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var quantize = document.RootElement.GetProperty("quantize");
            Assert.Equal("synthetic:tiny", quantize.GetProperty("model").GetString());
            Assert.Equal("layer-parallel", quantize.GetProperty("mode").GetString());
            Assert.Equal((4, 12, 4), (quantize.GetProperty("samples").GetInt32(), quantize.GetProperty("max_tokens").GetInt32(), quantize.GetProperty("layers").GetInt32()));
            Assert.Equal(2, quantize.GetProperty("devices").GetArrayLength());
            var stages = quantize.GetProperty("stages").EnumerateArray().ToArray();
            Assert.Equal([.. Stages, "save"], stages.Select(s => s.GetProperty("stage").GetString()));
            Assert.All(stages, s => Assert.True(s.GetProperty("seconds").GetDouble() >= 0));
            Assert.All(stages.Where(s => s.GetProperty("stage").GetString() is "load" or "sample" or "calibrate" or "build"),
                s => Assert.True(s.GetProperty("seconds").GetDouble() > 0, s.ToString()));
            double total = quantize.GetProperty("total_seconds").GetDouble();
            Assert.InRange(stages.Sum(s => s.GetProperty("seconds").GetDouble()), 0.5 * total, total + 0.01);
            Assert.True(quantize.GetProperty("memory_estimate").GetProperty("device_peak_bytes").GetInt64() > 0);
            Assert.All(quantize.GetProperty("device_used_peak_bytes").EnumerateArray(), b => Assert.True(b.GetInt64() > 0));
            Assert.Equal("synthetic:tiny", document.RootElement.GetProperty("shapes").GetProperty("name").GetString());

            // The save wrote a W8A8 checkpoint that loads in one process like any other.
            using var device = new CpuDevice();
            using var model = CausalLanguageModel.Load(saved, device);
            Assert.All(model.Layers, l => Assert.IsType<Int8Linear>(l.Weights.QueryProjection));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Without_save_nothing_is_written_and_sequential_mode_splits_calibration_from_builds()
    {
        var run = await CliRun.Of("bench", "--parts", "quantize", "--model", "synthetic:tiny", "--devices", "cpu:1", "--samples", "2",
            "--max-tokens", "8", "--mode", "sequential", "--silo-port", "11452", "--gateway-port", "30452");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("sequential", run.Output);
        Assert.Contains("total: wall clock, load to commit (nothing saved)", run.Output);
        Assert.DoesNotMatch(@"(?m)^save ", run.Output);
        foreach (string stage in Stages)
        {
            Assert.Matches($@"(?m)^{stage} +[0-9.]+", run.Output);
        }
    }

    [Theory]
    [InlineData("--model", "synthetic:llama9", "unknown synthetic model 'synthetic:llama9'")]
    [InlineData("--mode", "diagonal", "--mode 'diagonal': expected layer-parallel or sequential")]
    [InlineData("--samples", "0", "Samples is 0; expected at least 1")]
    public async Task A_bad_setting_is_refused_before_a_silo_starts(string option, string value, string message)
    {
        var run = await CliRun.Of("bench", "--parts", "quantize", "--devices", "cpu:1", option, value, "--silo-port", "11453", "--gateway-port", "30453");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.DoesNotContain("layers loaded", run.Output + run.Error);
    }

    [Fact]
    public void Stage_times_come_from_the_jobs_own_clock()
    {
        JobEvent At(string stage, double seconds, int? layer = null, double? layerSeconds = null) =>
            new(stage, 0, 0, seconds, layer, LayerSeconds: layerSeconds);
        JobEvent[] parallel =
        [
            At("sample", 0), At("sample", 40), At("calibrate", 50), At("calibrate", 70),
            At("quantize", 80, 0, 9), At("quantize", 95, 1, 14), At("heartbeat", 96), At("done", 97),
        ];

        var stages = QuantizeStageTimes.Of(parallel, sequential: false);

        Assert.Equal(["sample", "calibrate", "build", "commit"], stages.Select(s => s.Stage));
        Assert.Equal([40, 30, 25, 2], stages.Select(s => s.Seconds));
        Assert.Contains("23.0s", stages[2].What);

        // Sequential: builds are the layers' own times, calibration the rest of the per-layer loop.
        JobEvent[] sequential = [At("sample", 10), At("quantize", 30, 0, 5), At("quantize", 50, 1, 6), At("done", 51)];
        Assert.Equal([10, 29, 11, 1], QuantizeStageTimes.Of(sequential, sequential: true).Select(s => s.Seconds));

        var failed = Assert.Throws<ArgumentException>(() => QuantizeStageTimes.Of([At("sample", 1), At("failed", 2)], sequential: false));
        Assert.Contains("no 'done' event", failed.Message);
    }

    [Fact]
    public void Llama3_8b_fits_one_h200_by_the_estimate()
    {
        var estimate = QuantizeMemoryEstimate.Of(SyntheticModels.Llama3_8B.Config, samples: 512, maxTokens: 2048, wave: 32, weightElementBytes: 2);

        // 8.03 B bf16 parameters; 32 layers × (3 · 4096² + 14336²) float64 Gram entries; 32 × 2048 tokens of KV.
        Assert.InRange(estimate.WeightBytes, 16.0e9, 16.1e9);
        Assert.InRange(estimate.StatisticsBytes, 65.4e9, 65.6e9);
        Assert.InRange(estimate.PendingBytes, 6.9e9, 7.1e9);
        Assert.Equal(32L * 2048 * 2 * 1024 * 2 * 32, estimate.SamplingKvBytes);
        Assert.Equal(512L * 2048 * 4096 * 4, estimate.SequentialHostHiddenBytes);
        Assert.InRange(estimate.DevicePeakBytes, 85e9, 100e9);
        Assert.True(estimate.DevicePeakBytes < 141e9 * 0.9, $"{estimate.DevicePeakBytes / 1e9:F1} GB leaves too little of an H200's 141 GB");
    }
}
