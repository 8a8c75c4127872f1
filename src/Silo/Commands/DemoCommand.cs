using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Evaluation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant demo</c>: the whole story on the bundled model that speaks in one process with a local silo — load
/// with a placement plan, a greedy continuation in full precision, calibrate (on the model's calibration text),
/// quantize layer-parallel with progress, the per-layer error table, the same continuation in W8A8, and W8A8 against
/// FP on held-out text (perplexity, KL, top-1 agreement).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory, 'speaking' (the bundled trained model) or a demo model name", DefaultValueFactory = _ => BundledModels.Speaking };
        var devices = new Option<string>("--devices") { Description = "Devices of the local silo: cpu:N (N CPU devices sharing the cores), cuda (every GPU), cuda:0,1 (GPUs by ordinal) or auto", DefaultValueFactory = _ => "cpu:2" };
        var samples = new Option<int>("--samples") { Description = "Calibration samples (from the model's calibration.txt, else drawn from the model)", DefaultValueFactory = _ => 16 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per calibration sample", DefaultValueFactory = _ => 64 };
        var prompt = new Option<string>("--prompt") { Description = "Prompt to continue", DefaultValueFactory = _ => "The GNU General Public License" };
        var siloPort = new Option<int>("--silo-port") { Description = "Local silo port", DefaultValueFactory = _ => 11211 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Local gateway port", DefaultValueFactory = _ => 30100 };
        var dtype = DTypeOption.Create();
        var dashboard = DashboardOption.Create();
        var command = new Command("demo", "Load, quantize (layer-parallel), serve and evaluate a model on a local silo")
        {
            model, devices, samples, maxTokens, prompt, siloPort, gatewayPort, dtype, dashboard,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var logging = CliLogging.For(parse);
            logging.Announce();
            var (dashboardKey, dashboardUrl) = DashboardOption.Setting(parse, dashboard);
            using var host = SiloHostFactory.Build(new Dictionary<string, string?>
            {
                ["Silo:SiloPort"] = parse.GetValue(siloPort).ToString(),
                ["Silo:PrimarySiloPort"] = parse.GetValue(siloPort).ToString(),
                ["Silo:GatewayPort"] = parse.GetValue(gatewayPort).ToString(),
                ["OrleansQuant:Devices"] = parse.GetValue(devices),
                [dashboardKey] = dashboardUrl,
            }, logging);
            await host.StartAsync(cancellation);
            DashboardOption.Announce(host.Services);
            var client = new OrleansQuantClient(host.Services.GetRequiredService<IClusterClient>());
            const string name = "demo";

            Console.WriteLine($"== load {parse.GetValue(model)}");
            var loading = StatusLine.ForStandardOutput();
            var status = await client.LoadAsync(name, parse.GetValue(model)!, progress: new ConsoleProgress<JobEvent>(e =>
            {
                if (e is { Stage: "load", Done: > 0 })
                {
                    loading.Update($"  {e.Done}/{e.Total} layers loaded at {e.ElapsedSeconds:F1}s");
                }
            }), cancellation: cancellation, dtype: parse.GetValue(dtype)!).WaitAsync(cancellation);
            loading.Finish();
            int placed = status.Layers.Select(l => (l.Silo, l.Device)).Distinct().Count();
            Console.WriteLine($"{status.Layers.Count} layers, one grain each, in contiguous ranges over {placed} device(s):");
            Console.WriteLine(Reports.PlacementTable(status));

            string directory = ModelDirectory.Resolve(parse.GetValue(model)!);
            string text = parse.GetValue(prompt)!;
            Console.WriteLine($"== generate in full precision (greedy): {text}");
            await Continue(client, name, text, cancellation);

            // The bundled model carries text it never saw in training: calibrate on it, as llm-compressor calibrates
            // on a dataset; a model without it calibrates on samples drawn from itself.
            string? calibration = BundledModels.TextBeside(directory, "calibration.txt");
            var progress = new QuantizationProgressView(Console.Out, StatusLine.ForStandardOutput(),
                $"== calibrate on {parse.GetValue(samples)} samples × {parse.GetValue(maxTokens)} tokens "
                    + (calibration is null ? "drawn from the model" : "of its calibration text"),
                "== quantize layer-parallel: SmoothQuant 0.8 + GPTQ W8A8, every layer at once on its device");
            var quantize = new QuantizeRequest(Calibration: calibration ?? "self", SampleCount: parse.GetValue(samples), MaxTokens: parse.GetValue(maxTokens));
            await foreach (var e in client.QuantizeAsync(name, quantize).Until(cancellation))
            {
                progress.Show(e);
            }

            status = await client.StatusAsync(name).WaitAsync(cancellation);
            Console.WriteLine();
            Console.WriteLine("== per-layer W8A8 output error: round to nearest vs the recipe");
            Console.WriteLine(Reports.LayerTable(progress.Events, status));
            if (!progress.Succeeded)
            {
                throw new InvalidOperationException($"quantization {progress.Outcome ?? "ended without an outcome"}");
            }

            Console.WriteLine($"== generate in W8A8 (greedy): {text}");
            await Continue(client, name, text, cancellation);

            string saved = Path.Combine(Path.GetTempPath(), $"orleansquant-demo-w8a8-{Environment.ProcessId}");
            await client.SaveAsync(name, saved).WaitAsync(cancellation);
            string? heldOut = BundledModels.TextBeside(directory, "heldout.txt");
            Console.WriteLine($"== evaluate W8A8 against FP on {(heldOut is null ? "text drawn from the model" : "held-out text")} (W8A8 saved to {saved})");
            using var device = new CpuDevice();
            using var fp = CausalLanguageModel.Load(directory, device);
            using var w8a8 = CausalLanguageModel.Load(saved, device);
            var data = heldOut is null
                ? SelfCalibration.Generate(fp, samples: 8, tokens: 64, seed: 1234)
                : CalibrationData.Load(heldOut, ModelTokenizer.Load(directory), new CalibrationOptions(Samples: 8, MaxTokens: 128, Seed: 1234));
            var results = ModelEvaluator.Evaluate(data, ("FP", fp), ("W8A8", w8a8));
            Console.WriteLine($"W8A8 vs FP on {results[1].Tokens} held-out tokens: KL {results[1].MeanKlDivergence:E3} per token, " +
                $"top-1 agreement {results[1].Top1Agreement:P2}, perplexity {results[0].Perplexity:F2} → {results[1].Perplexity:F2}");
            await host.StopAsync(cancellation);
            return 0;
        });
        return command;
    }

    // A greedy continuation of 32 tokens through the cluster, streamed to the console.
    private static async Task Continue(OrleansQuantClient client, string model, string prompt, CancellationToken cancellation)
    {
        await foreach (var token in client.GenerateAsync(model, new GenerateRequest(Prompt: prompt, MaxTokens: 32)).Until(cancellation))
        {
            Console.Write(token.Text);
        }

        Console.WriteLine();
        Console.WriteLine();
    }
}
