using System.CommandLine;
using System.Text.Json;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Evaluation;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Silo.Commands;

/// <summary><c>orleansquant eval --model A [--compare B] --data FILE|self</c>: perplexity, KL(A‖B) per token, top-1 agreement.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory or demo model name", Required = true };
        var compare = new Option<string?>("--compare") { Description = "A second model (e.g. its quantized version) to compare with the first" };
        var data = new Option<string>("--data") { Description = "Evaluation text/JSONL file, or 'self' (drawn from the first model)", DefaultValueFactory = _ => "self" };
        var samples = new Option<int>("--samples") { Description = "Evaluation samples", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per sample", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Shuffle / sampling seed (differs from calibration's 42 so the data differ)", DefaultValueFactory = _ => 1234 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON" };
        var command = new Command("eval", "Evaluate a model, or compare a quantized model with its original") { model, compare, data, samples, maxTokens, seed, json };
        command.SetAction(parse =>
        {
            string first = ModelDirectory.Resolve(parse.GetValue(model)!);
            using var device = new CpuDevice();
            using var a = CausalLanguageModel.Load(first, device);
            using var b = parse.GetValue(compare) is string other ? CausalLanguageModel.Load(ModelDirectory.Resolve(other), device) : null;
            var tokens = CalibrationSource.Load(parse.GetValue(data)!, first, a,
                new CalibrationOptions(parse.GetValue(samples), parse.GetValue(maxTokens), parse.GetValue(seed)));
            var results = ModelEvaluator.Evaluate(tokens, (parse.GetValue(model)!, a), b is null ? null : (parse.GetValue(compare)!, b),
                new ConsoleProgress<int>(done => Console.Error.Write($"\r  evaluated {done}/{tokens.Count}")));
            Console.Error.WriteLine();
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(results, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }) : Reports.EvaluationTable(results));
            return 0;
        });
        return command;
    }
}
