using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Bench;

/// <summary>What <c>bench --parts quantize</c> runs: a model, calibration size and mode, and where (if anywhere) to save.</summary>
internal sealed record QuantizeBenchOptions(
    string Model,
    string Devices,
    int Samples,
    int MaxTokens,
    ClusterQuantizationMode Mode,
    string? SaveDirectory,
    int SiloPort,
    int GatewayPort,
    string DType = "auto");

/// <summary>The <c>quantize</c> section of the bench JSON: the run's settings, each stage's time, and memory.</summary>
internal sealed class QuantizeBenchResult
{
    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("devices")] public required IReadOnlyList<string> Devices { get; init; }

    [JsonPropertyName("mode")] public required string Mode { get; init; }

    [JsonPropertyName("samples")] public required int Samples { get; init; }

    [JsonPropertyName("max_tokens")] public required int MaxTokens { get; init; }

    [JsonPropertyName("layers")] public required int Layers { get; init; }

    [JsonPropertyName("stages")] public required IReadOnlyList<QuantizeStage> Stages { get; init; }

    /// <summary>Load through commit (and the save when one was asked for), on one clock.</summary>
    [JsonPropertyName("total_seconds")] public required double TotalSeconds { get; init; }

    [JsonPropertyName("memory_estimate")] public required QuantizeMemoryEstimate MemoryEstimate { get; init; }

    /// <summary>The most device memory seen in use, per device (total − free, polled every second); for a CPU device, the process's managed heap.</summary>
    [JsonPropertyName("device_used_peak_bytes")] public required IReadOnlyList<long> DeviceUsedPeakBytes { get; init; }

    [JsonPropertyName("saved_to")] public string? SavedTo { get; init; }
}

/// <summary>
/// The product's own end-to-end path, timed: a local silo (as <c>demo</c> starts) loads the model over its devices
/// — a synthetic one generates each layer on the device of its layer grain — then one quantization job draws the
/// self-calibration samples, runs the statistics pass, builds every layer (SmoothQuant + GPTQ) and commits them all,
/// and the checkpoint is saved only when a directory is given. Stage times come from the job's own events
/// (<see cref="QuantizeStageTimes"/>).
/// </summary>
internal static class QuantizeBench
{
    private const string Name = "bench";

    /// <returns>the run's times and memory; device 0 of its silo and the model's shapes, which the bench report's header names.</returns>
    public static async Task<(QuantizeBenchResult Result, DeviceInfo HeadDevice, BenchShapesJson Shapes)> Run(QuantizeBenchOptions options, CliLogging logging, TextWriter output, CancellationToken cancellation)
    {
        new CalibrationOptions(options.Samples, options.MaxTokens).Validate();
        string model = ModelDirectory.Resolve(options.Model);
        var config = ConfigOf(model);
        // The kind the silo's devices setting names; "auto" takes the GPUs when CUDA is there, as the registry does.
        var kind = DeviceSpec.TryParse(options.Devices, out var spec) && spec.Kind is { } named ? named
            : CudaAvailability.IsAvailable ? DeviceKind.Cuda : DeviceKind.Cpu;
        var weightType = WeightPrecisions.Parse(options.DType).StorageOn(kind);

        // The load below asks for the default KV budget, which (with the caches' type, the weights') sizes the self-calibration waves.
        int wave = SelfCalibration.Wave(config, options.MaxTokens, new LoadModelRequest(model).KvCacheBudgetBytes, weightType);
        var estimate = QuantizeMemoryEstimate.Of(config, options.Samples, options.MaxTokens, wave, weightType.ElementSize());
        string mode = options.Mode == ClusterQuantizationMode.Sequential ? "sequential" : "layer-parallel";
        output.WriteLine($"== quantize {model} end to end on {options.Devices}: {config.NumHiddenLayers} layers, self-calibration " +
            $"{options.Samples} × {options.MaxTokens} tokens, {mode}");
        output.WriteLine($"   estimated device memory at peak {Gb(estimate.DevicePeakBytes)}: weights {Gb(estimate.WeightBytes)} ({(weightType == TensorType.BFloat16 ? "bf16" : "float32")}) + " +
            $"statistics {Gb(estimate.StatisticsBytes)} (XᵀX in float64) + int8 built {Gb(estimate.PendingBytes)} + one build {Gb(estimate.BuildWorkspaceBytes)}; " +
            $"sampling KV {Gb(estimate.SamplingKvBytes)} before any statistics exist");

        using var host = SiloHostFactory.Build(new Dictionary<string, string?>
        {
            ["Silo:SiloPort"] = options.SiloPort.ToString(),
            ["Silo:PrimarySiloPort"] = options.SiloPort.ToString(),
            ["Silo:GatewayPort"] = options.GatewayPort.ToString(),
            ["OrleansQuant:Devices"] = options.Devices,
        }, logging);
        await host.StartAsync(cancellation);
        try
        {
            var registry = host.Services.GetRequiredService<DeviceRegistry>();
            var devices = Enumerable.Range(0, registry.Count).Select(i => registry[i].Device).ToArray();
            using var memory = new DeviceMemoryPoll(devices);
            var client = new OrleansQuantClient(host.Services.GetRequiredService<IClusterClient>());
            var clock = Stopwatch.StartNew();

            var loading = StatusLine.ForStandardError();
            await client.LoadAsync(Name, model, dtype: options.DType, progress: new ConsoleProgress<JobEvent>(e =>
            {
                if (e is { Stage: "load", Done: > 0 })
                {
                    loading.Update($"  {e.Done}/{e.Total} layers loaded at {e.ElapsedSeconds:F1}s");
                }
            }), cancellation: cancellation);
            loading.Finish();
            double loaded = clock.Elapsed.TotalSeconds;

            var progress = new QuantizationProgressView(output, StatusLine.ForStandardError(),
                "== calibrate: statistics of every layer's linear inputs", $"== build: SmoothQuant + GPTQ W8A8, {mode}");
            var request = new QuantizeRequest(Calibration: "self", SampleCount: options.Samples, MaxTokens: options.MaxTokens, Mode: options.Mode);
            var job = await client.Model(Name).StartQuantize(request);
            await Watch(client, job.Id, progress, output, cancellation);

            if (!progress.Succeeded)
            {
                throw new InvalidOperationException($"quantization of {model} {progress.Outcome ?? "ended without an outcome"}");
            }

            var stages = new List<QuantizeStage> { new("load", loaded, "placement, then every layer grain makes (or reads) its own layer on its device; the head on device 0") };
            stages.AddRange(QuantizeStageTimes.Of(progress.Events, options.Mode == ClusterQuantizationMode.Sequential));
            if (options.SaveDirectory is string directory)
            {
                var started = clock.Elapsed;
                await client.SaveAsync(Name, directory, cancellation: cancellation);
                stages.Add(new("save", (clock.Elapsed - started).TotalSeconds, $"compressed-tensors shards written by each layer to {directory}"));
            }

            var result = new QuantizeBenchResult
            {
                Model = model,
                Devices = devices.Select(d => d.Info.ToString()).ToArray(),
                Mode = mode,
                Samples = options.Samples,
                MaxTokens = options.MaxTokens,
                Layers = config.NumHiddenLayers,
                Stages = stages,
                TotalSeconds = clock.Elapsed.TotalSeconds,
                MemoryEstimate = estimate,
                DeviceUsedPeakBytes = memory.Peaks(),
                SavedTo = options.SaveDirectory,
            };
            output.WriteLine();
            output.WriteLine(Table(result));
            var shapes = new BenchShapesJson(model, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
            return (result, devices[0].Info, shapes);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Follows the job to its end. A silo busy with an 8B model's builds can leave one watch call unanswered past
    /// Orleans' 30 s response timeout while the job itself goes on: the watch then re-attaches after the last event
    /// it saw, instead of abandoning a run of many minutes.
    /// </summary>
    private static async Task Watch(OrleansQuantClient client, string jobId, QuantizationProgressView progress, TextWriter output, CancellationToken cancellation)
    {
        const int MaxReattachments = 20;
        int next = 0;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await foreach (var e in client.WatchAsync(Name, jobId, next, cancellation))
                {
                    if (e.Sequence >= 0)
                    {
                        next = e.Sequence + 1;
                    }

                    progress.Show(e);
                }

                return;
            }
            catch (TimeoutException) when (attempt < MaxReattachments && !cancellation.IsCancellationRequested)
            {
                output.WriteLine($"  (the silo did not answer the progress watch within Orleans' response timeout; re-attaching at event {next})");
            }
        }
    }

    public static string Table(QuantizeBenchResult result)
    {
        var table = new TextTable("stage", "seconds", "share");
        foreach (var stage in result.Stages)
        {
            table.Add(stage.Stage, stage.Seconds.ToString("F1"), $"{stage.Seconds / Math.Max(result.TotalSeconds, 1e-9):P0}");
        }

        table.Add("total", result.TotalSeconds.ToString("F1"), "");
        var legend = result.Stages.Select(s => $"  {s.Stage}: {s.What}")
            .Append($"  total: wall clock, load to {(result.SavedTo is null ? "commit (nothing saved)" : "saved")}");
        return $"== {result.Model}: {result.Samples} × {result.MaxTokens} self-calibration tokens, {result.Mode}, on {string.Join(", ", result.Devices)}\n" +
            table + string.Join("\n", legend) + "\n" +
            $"device memory in use at most: {string.Join(", ", result.DeviceUsedPeakBytes.Select(Gb))} (estimated peak {Gb(result.MemoryEstimate.DevicePeakBytes)})";
    }

    private static ModelConfig ConfigOf(string model)
    {
        using var source = ModelSource.Open(model);
        return source.Config;
    }

    private static string Gb(long bytes) => BenchTables.Bytes(bytes);
}
