using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model.Benchmarks;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Silo.Bench;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant bench</c>: on one device of this silo, times what bench_torch.py times on the same card — the int8
/// and float GEMMs of a layer's linears, the whole W8A8 linear, one decoder layer's prefill and decode with float and
/// W8A8 weights — plus the device's copy bandwidth (a decode step's floor) and GPTQ of one linear. Prints tables and
/// writes JSON that deploy/bench_compare.py puts beside the PyTorch figures. The <c>quantize</c> part instead runs a
/// whole model's quantization end to end through a local silo and times each stage (<see cref="QuantizeBench"/>); the
/// <c>cluster</c> part serves a model through a local silo's grains beside the single-process engine (<see cref="ClusterBench"/>).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var devices = new Option<string>("--devices")
        {
            Description = "The device to time: 'cpu', 'cuda', 'auto' (an accelerator if present, else the CPU), or a devices setting such as 'cuda:1' (its device 0 is timed)",
            DefaultValueFactory = _ => "auto",
        };
        var shapes = new Option<string>("--shapes") { Description = "Layer shapes: llama3-8b (a GPU's work: hours on a CPU device) or tiny (seconds on a CPU)", DefaultValueFactory = _ => "llama3-8b" };
        var iterations = new Option<int>("--iterations") { Description = "Timed calls per measurement (after the warm-up)", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before each measurement", DefaultValueFactory = _ => 3 };
        var tokens = new Option<string?>("--tokens") { Description = "Token counts of the GEMMs and the prefill, comma-separated (default: the shapes' own)" };
        var batch = new Option<string?>("--batch") { Description = "Decode batch sizes, comma-separated (default: the shapes' own)" };
        var context = new Option<int?>("--context") { Description = "Tokens each decoded sequence holds (default: the shapes' own)" };
        var parts = new Option<string>("--parts")
        {
            Description = "What to time, comma-separated: gemm, layer, gptq (kernels at --shapes); quantize (a whole model end to end through a local silo, " +
                "each stage timed); cluster (--model served through a local silo's grains beside the single-process engine)",
            DefaultValueFactory = _ => "gemm,layer,gptq",
        };
        var model = new Option<string?>("--model")
        {
            Description = "quantize, cluster: the model — a checkpoint directory, demo model or synthetic:NAME (synthetic:llama3-8b, synthetic:tiny: " +
                "weights generated on each layer's device); default synthetic:llama3-8b for quantize, demo for cluster",
        };
        var samples = new Option<int?>("--samples") { Description = "quantize, cluster: self-calibration samples (default 512 for quantize, 8 for cluster)" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "quantize, cluster: tokens per self-calibration sample (default 2048 for quantize, 64 for cluster)" };
        var mode = new Option<string>("--mode")
        {
            Description = "quantize: layer-parallel (one statistics pass, then every layer builds) or sequential (each layer calibrated on the quantized layers before it; same device memory, plus every calibration hidden state on the host)",
            DefaultValueFactory = _ => "layer-parallel",
        };
        var save = new Option<string?>("--save") { Description = "quantize: also save the W8A8 checkpoint to this directory, timed (default: not saved)" };
        var quantize = new Option<string>("--quantize")
        {
            Description = "cluster: quantize to W8A8 first with gptq or rtn (self-calibration), or none (serve the checkpoint as it is, e.g. already W8A8)",
            DefaultValueFactory = _ => "gptq",
        };
        var concurrency = new Option<string>("--concurrency") { Description = "cluster: sequences generated at once, comma-separated runs", DefaultValueFactory = _ => "1,64" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "cluster: prompt length of every sequence", DefaultValueFactory = _ => 128 };
        var newTokens = new Option<int>("--new-tokens") { Description = "cluster: tokens generated per sequence (greedy; fewer if it stops)", DefaultValueFactory = _ => 128 };
        var siloPort = new Option<int>("--silo-port") { Description = "quantize, cluster: the local silo's port", DefaultValueFactory = _ => 11241 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "quantize, cluster: the local silo's gateway port", DefaultValueFactory = _ => 30141 };
        var gptqIterations = new Option<int>("--gptq-iterations") { Description = "Timed GPTQ runs per linear", DefaultValueFactory = _ => 1 };
        var dtype = DTypeOption.Create();
        var output = new Option<string?>("--out") { Description = "Write the results as JSON to this file" };
        var command = new Command("bench",
            "Time the device's kernels, one decoder layer and GPTQ at a model's shapes (compare with bench_torch.py), a whole model's " +
            "quantization stage by stage (--parts quantize), or serving through the cluster (--parts cluster). Llama-3-8B quantized on one H200 " +
            "(141 GB), layer-parallel: about 109 GB at peak — 32 GB float32 weights, 66 GB of float64 XᵀX statistics (2 GB a layer), 7 GB of " +
            "int8 built beside them, 4 GB for one build")
        {
            devices, shapes, iterations, warmup, tokens, batch, context, parts, gptqIterations, output, dtype, model, samples, maxTokens, mode, save,
            quantize, concurrency, promptTokens, newTokens, siloPort, gatewayPort,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var preset = BenchmarkShapes.Named(parse.GetValue(shapes)!);
            var chosen = preset with
            {
                Tokens = Counts(parse.GetValue(tokens), "--tokens") ?? preset.Tokens,
                Batches = Counts(parse.GetValue(batch), "--batch") ?? preset.Batches,
                Context = parse.GetValue(context) ?? preset.Context,
            };
            var clock = new BenchmarkClock(parse.GetValue(warmup), parse.GetValue(iterations));
            clock.Validate();
            var selected = Parts(parse.GetValue(parts)!);
            if (parse.GetValue(gptqIterations) < 1)
            {
                throw new ArgumentException($"--gptq-iterations {parse.GetValue(gptqIterations)}: expected at least 1");
            }

            var quantizeRun = selected.Contains("quantize")
                ? new QuantizeBenchOptions(parse.GetValue(model) ?? "synthetic:llama3-8b", Setting(parse.GetValue(devices)!), parse.GetValue(samples) ?? 512,
                    parse.GetValue(maxTokens) ?? 2048, Mode(parse.GetValue(mode)!), parse.GetValue(save), parse.GetValue(siloPort), parse.GetValue(gatewayPort), parse.GetValue(dtype)!)
                : null;
            if (quantizeRun is not null)
            {
                // Fails before a silo starts: a wrong name should not cost a cluster's start-up.
                ModelDirectory.Check(quantizeRun.Model);
            }

            var serving = selected.Contains("cluster")
                ? new ClusterBenchSettings(parse.GetValue(model) ?? "demo", parse.GetValue(quantize)!.ToLowerInvariant(), parse.GetValue(samples) ?? 8,
                    parse.GetValue(maxTokens) ?? 64, Counts(parse.GetValue(concurrency), "--concurrency")!, parse.GetValue(promptTokens), parse.GetValue(newTokens), parse.GetValue(dtype)!)
                : null;
            serving?.Validate();

            var logging = CliLogging.For(parse);
            logging.Announce();
            string setting = Setting(parse.GetValue(devices)!);
            BenchReport? report = null;
            BenchReport NewReport(DeviceInfo info, BenchShapesJson shapesRun) => new()
            {
                Device = info.Name,
                DeviceId = info.ToString(),
                Version = typeof(BenchCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
                Runtime = RuntimeInformation.FrameworkDescription,
                Date = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                Command = "orleansquant " + string.Join(" ", parse.Tokens.Select(t => t.Value)),
                Shapes = shapesRun,
                Warmup = clock.Warmup,
                Iterations = clock.Iterations,
                // Activations as a served model holds them on this kind of device: the float path's element type.
                FpType = WeightPrecision.Auto.StorageOn(info.Kind) == TensorType.BFloat16 ? "bfloat16" : "float32",
            };

            if (selected.Overlaps(KernelParts))
            {
                // The silo's own container makes the device, so every provider the silo registers (CPU, CUDA) is here
                // too. The host is built, not started: no ports, no cluster; it is gone before a quantize part starts its own.
                using var host = SiloHostFactory.Build(new Dictionary<string, string?> { [DeviceSpec.Setting] = setting }, logging);
                RequireProvider(setting, host.Services.GetServices<IComputeDeviceProvider>());
                var slot = host.Services.GetRequiredService<DeviceRegistry>().Head;
                var info = slot.Device.Info;
                report = NewReport(info, BenchShapesJson.Of(chosen));
                await RunKernels(slot, info, chosen, clock, selected, parse.GetValue(gptqIterations), report, cancellation);
            }

            if (quantizeRun is not null)
            {
                var (result, headDevice, modelShapes) = await QuantizeBench.Run(quantizeRun, logging, Console.Out, cancellation);
                report ??= NewReport(headDevice, modelShapes);
                report.Quantize = result;
            }

            if (serving is not null)
            {
                // A silo of its own, started to serve through the cluster and stopped after.
                using var host = SiloHostFactory.Build(new Dictionary<string, string?>
                {
                    [DeviceSpec.Setting] = setting,
                    ["Silo:SiloPort"] = parse.GetValue(siloPort).ToString(),
                    ["Silo:PrimarySiloPort"] = parse.GetValue(siloPort).ToString(),
                    ["Silo:GatewayPort"] = parse.GetValue(gatewayPort).ToString(),
                }, logging);
                RequireProvider(setting, host.Services.GetServices<IComputeDeviceProvider>());
                var info = host.Services.GetRequiredService<DeviceRegistry>().Head.Device.Info;
                report ??= NewReport(info, BenchShapesJson.Of(chosen));
                Console.WriteLine($"== bench on {info}");
                var progress = new BenchProgress();
                await host.StartAsync(cancellation);
                try
                {
                    report.Cluster = await ClusterBench.Run(host, serving, progress, cancellation);
                }
                finally
                {
                    await host.StopAsync(CancellationToken.None);
                }

                var c = report.Cluster;
                progress.Print($"== serving {c.Model} ({c.Weights}) through one silo: {c.Layers} layers in {c.Stages} stage(s) on {string.Join(", ", c.Devices)}; " +
                    $"single process on {c.SingleProcessDevice}; greedy, {c.PromptTokens} prompt + up to {c.MaxTokens} new tokens per sequence, all sent at once");
                progress.Print(ServingTables.Paths(c.Runs));
                progress.Print("== Orleans cost per hop of a generation step (coordinator's wall − device compute inside the call; ms, mean unless marked)");
                progress.Print(ServingTables.Hops(c.Runs));
                progress.Clear();
            }

            if (parse.GetValue(output) is string path)
            {
                string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
                Directory.CreateDirectory(folder!);
                await File.WriteAllTextAsync(path, report!.ToJson(), cancellation);
                Console.WriteLine($"results: {path}");
            }

            return 0;
        });
        return command;
    }

    private static readonly string[] KernelParts = ["gemm", "layer", "gptq"];

    private static async Task RunKernels(ComputeDeviceSlot slot, DeviceInfo info, BenchmarkShapes chosen, BenchmarkClock clock, ISet<string> selected,
        int gptqIterations, BenchReport report, CancellationToken cancellation)
    {
        Console.WriteLine($"== bench on {info}: {chosen.Name} shapes (hidden {chosen.Hidden}, intermediate {chosen.Intermediate}, " +
            $"{chosen.Heads}/{chosen.KvHeads} heads × {chosen.HeadDim}); {clock.Warmup} warm-up + {clock.Iterations} timed calls each, ms per call");
        var progress = new BenchProgress();

        // On the device's worker, like all layer work: its stream, and for a CPU device its share of the cores.
        try
        {
            await slot.Worker.Run(() => Run(slot.Device, chosen, clock, selected, gptqIterations, report, progress, cancellation));
        }
        finally
        {
            progress.Clear();
        }
    }

    private static void Run(IComputeDevice device, BenchmarkShapes shapes, BenchmarkClock clock, ISet<string> parts, int gptqIterations,
        BenchReport report, BenchProgress progress, CancellationToken cancellation)
    {
        if (parts.Contains("layer"))
        {
            progress.Show("copy");
            report.Copy = KernelBenchmarks.Copy(device, clock, shapes.CopyBytes);
            progress.Print($"== device copy of {BenchTables.Bytes(report.Copy.Bytes)}: {BenchTables.Ms(report.Copy.Ms)} ms, {report.Copy.GigabytesPerSecond:F1} GB/s (read + write)");
            progress.Print("");
        }

        if (parts.Contains("gemm"))
        {
            report.Gemm.AddRange(KernelBenchmarks.Gemm(device, shapes, clock, progress: progress.Show, cancellation: cancellation));
            progress.Print("== GEMM (fp: MatMul; int8: MatMulInt8 of pre-quantized inputs, dequantized; W8A8 linear: quantize + int8 GEMM + dequantize)");
            progress.Print(BenchTables.Gemm(report.Gemm));
        }

        if (parts.Contains("layer"))
        {
            progress.Show("building the layer's weights");
            using var layer = LayerBenchmarks.Build(device, shapes);
            report.Layer = layer.Facts(report.Copy!);
            foreach (int tokens in shapes.Tokens)
            {
                cancellation.ThrowIfCancellationRequested();
                progress.Show($"layer prefill {tokens} tokens");
                report.LayerPrefill.Add(layer.Prefill(tokens, clock));
            }

            progress.Print("== decoder layer prefill: one new sequence of T tokens");
            progress.Print(BenchTables.Prefill(report.LayerPrefill));
            foreach (int batch in shapes.Batches)
            {
                cancellation.ThrowIfCancellationRequested();
                progress.Show($"layer decode batch {batch} at context {shapes.Context}");
                report.LayerDecode.Add(layer.Decode(batch, clock));
            }

            progress.Print($"== decoder layer decode: one token for each of B sequences at context {shapes.Context}; floor = " +
                $"{BenchTables.Bytes(report.Layer.Int8WeightBytes)} of W8A8 weights at the copy bandwidth = {BenchTables.Ms(report.Layer.DecodeFloorMs)} ms");
            progress.Print(BenchTables.Decode(report.LayerDecode, report.Layer));

            // Graphs pay where launches weigh: small batches. A device without them gives no rows.
            foreach (int batch in shapes.Batches.Where(b => b is 1 or 8 or 64))
            {
                cancellation.ThrowIfCancellationRequested();
                progress.Show($"W8A8 layer decode batch {batch}, launched and as CUDA graphs");
                if (layer.DecodeGraphs(batch, clock) is { } graphs)
                {
                    report.LayerDecodeGraphs.Add(graphs);
                }
            }

            if (report.LayerDecodeGraphs.Count > 0)
            {
                progress.Print($"== W8A8 decoder layer decode, each step launched kernel by kernel and replayed as a CUDA graph, context {shapes.Context}");
                progress.Print(BenchTables.DecodeGraphs(report.LayerDecodeGraphs));
            }
        }

        if (parts.Contains("gptq"))
        {
            foreach (var shape in shapes.Gptq)
            {
                cancellation.ThrowIfCancellationRequested();
                progress.Show($"GPTQ {shape.Op} {shape.Rows} × {shape.Columns}");
                report.Gptq.Add(GptqBenchmarks.Run(device, shape, shapes.GptqTokens, gptqIterations));
            }

            progress.Print("== GPTQ of one linear on the device (its quantization kernels, float64; block 128, damp 0.01)");
            progress.Print(BenchTables.Gptq(report.Gptq));
        }
    }

    /// <summary>A bare kind asks for one device of it ("cpu:1", "cuda:0"); "auto" and a full setting ("cuda:2") pass through.</summary>
    internal static string Setting(string devices)
    {
        foreach (var kind in Enum.GetValues<DeviceKind>())
        {
            if (string.Equals(DeviceSpec.Name(kind), devices, StringComparison.OrdinalIgnoreCase))
            {
                return DeviceSpec.IsCounted(kind) ? $"{DeviceSpec.Name(kind)}:1" : $"{DeviceSpec.Name(kind)}:0";
            }
        }

        return devices;
    }

    // Said here rather than by the registry: its error lists the forms a setting takes, while the user's problem is a
    // build (or machine) without that backend.
    private static void RequireProvider(string setting, IEnumerable<IComputeDeviceProvider> providers)
    {
        var registered = providers.Select(p => p.Kind).Distinct().ToArray();
        if (DeviceSpec.TryParse(setting, out var spec) && spec.Kind is { } kind && !registered.Contains(kind))
        {
            throw new ArgumentException($"--devices {setting}: no {DeviceSpec.Name(kind)} device provider is registered in this silo " +
                $"(registered: {string.Join(", ", registered.Select(DeviceSpec.Name))})");
        }
    }

    private static ClusterQuantizationMode Mode(string text) => text.ToLowerInvariant() switch
    {
        "layer-parallel" => ClusterQuantizationMode.LayerParallel,
        "sequential" => ClusterQuantizationMode.Sequential,
        _ => throw new ArgumentException($"--mode '{text}': expected layer-parallel or sequential"),
    };

    private static IReadOnlyList<int>? Counts(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        var values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var counts = new List<int>();
        foreach (string value in values)
        {
            if (!int.TryParse(value, System.Globalization.NumberStyles.None, null, out int count) || count < 1)
            {
                throw new ArgumentException($"{option} '{text}': expected positive whole numbers separated by commas");
            }

            counts.Add(count);
        }

        return counts.Count > 0 ? counts : throw new ArgumentException($"{option} '{text}': expected at least one number");
    }

    private static HashSet<string> Parts(string text)
    {
        string[] known = [.. KernelParts, "quantize", "cluster"];
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => p.ToLowerInvariant()).ToHashSet();
        var unknown = parts.Except(known).ToArray();
        if (unknown.Length > 0 || parts.Count == 0)
        {
            throw new ArgumentException($"--parts '{text}': expected some of {string.Join(", ", known)}");
        }

        return parts;
    }
}
