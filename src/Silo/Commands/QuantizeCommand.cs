using System.CommandLine;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant quantize --model DIR|demo [--recipe FILE] --calibration FILE|self --out DIR</c>: SmoothQuant + GPTQ
/// in this process, with per-layer progress and error table, written as a compressed-tensors checkpoint.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory or demo model name", DefaultValueFactory = _ => "demo" };
        var output = new Option<string>("--out") { Description = "Directory for the compressed-tensors checkpoint", Required = true };
        var recipe = new Option<string?>("--recipe") { Description = "llm-compressor recipe (YAML or JSON); default SmoothQuant 0.8 + GPTQ W8A8" };
        var calibration = new Option<string>("--calibration") { Description = "Calibration text/JSONL file, or 'self'", DefaultValueFactory = _ => "self" };
        var samples = new Option<int>("--samples") { Description = "Calibration samples", DefaultValueFactory = _ => new CalibrationOptions().Samples };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per calibration sample", DefaultValueFactory = _ => new CalibrationOptions().MaxTokens };
        var seed = new Option<int>("--seed") { Description = "Shuffle / sampling seed", DefaultValueFactory = _ => new CalibrationOptions().Seed };
        var mode = new Option<string>("--mode") { Description = "layer-parallel or sequential", DefaultValueFactory = _ => "layer-parallel" };
        var flags = new RecipeOptions();
        var command = new Command("quantize", "Quantize a model to INT8 W8A8 and save it as compressed-tensors")
        {
            model, output, recipe, calibration, samples, maxTokens, seed, mode,
        };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var chosen = flags.Apply(parse, parse.GetValue(recipe) is string path ? RecipeReader.Load(path) : QuantizationRecipe.Default);
            var quantizationMode = ParseMode(parse.GetValue(mode)!);
            string directory = ModelDirectory.Resolve(parse.GetValue(model)!);

            // Checked, and the staging directory made, before any work: a bad --out fails now, not after quantizing.
            string target = parse.GetValue(output)!;
            CheckpointTarget.Check(target, directory, replaceExisting: false);
            using var staged = StagedDirectory.Begin(target);
            using var device = new CpuDevice();
            Console.Error.WriteLine($"loading {directory} …");
            using var lm = CausalLanguageModel.Load(directory, device, new ConsoleProgress<LoadProgress>(p => Console.Error.Write($"\r  layers {p.LayersLoaded}/{p.LayerCount}")));
            Console.Error.WriteLine();
            var data = CalibrationSource.Load(parse.GetValue(calibration)!, directory, lm,
                new CalibrationOptions(parse.GetValue(samples), parse.GetValue(maxTokens), parse.GetValue(seed)));
            Console.Error.WriteLine($"calibrating on {data.Count} samples, {data.Sum(s => (long)s.Length)} tokens ({quantizationMode})");
            var report = new ModelQuantizer(lm, chosen, quantizationMode).Run(data, new ConsoleProgress<QuantizationProgress>(p => Console.Error.WriteLine("  " + p)));
            Console.WriteLine(Reports.LayerTable(report));
            QuantizedCheckpointWriter.Write(lm, chosen, directory, staged.Path);
            staged.Commit(replaceExisting: false);
            Console.WriteLine($"wrote {target} (compressed-tensors int-quantized; calibration {report.CalibrationTime.TotalSeconds:F1}s, total {report.TotalTime.TotalSeconds:F1}s)");
            return 0;
        });
        return command;
    }

    public static QuantizationMode ParseMode(string mode) => mode.ToLowerInvariant() switch
    {
        "layer-parallel" or "parallel" => QuantizationMode.LayerParallel,
        "sequential" => QuantizationMode.Sequential,
        _ => throw new ArgumentException($"--mode '{mode}': expected layer-parallel or sequential"),
    };
}
