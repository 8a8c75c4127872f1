using System.CommandLine;
using System.Text.Json;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Silo.Commands;

/// <summary><c>orleansquant generate --model DIR|demo --prompt "..."</c>: continues a prompt in this process and streams the text.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory or demo model name", DefaultValueFactory = _ => "demo" };
        var prompt = new Option<string?>("--prompt") { Description = "Text to continue" };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Token ids to continue, comma-separated (instead of --prompt)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 32 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = all)" };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass", DefaultValueFactory = _ => 1f };
        var seed = new Option<int?>("--seed") { Description = "Sampling seed" };
        var json = new Option<bool>("--json") { Description = "Print prompt ids, generated ids and text as JSON" };
        var command = new Command("generate", "Continue a prompt with a model in this process")
        {
            model, prompt, promptIds, maxTokens, temperature, topK, topP, seed, json,
        };
        command.SetAction(parse =>
        {
            string directory = ModelDirectory.Resolve(parse.GetValue(model)!);
            var tokenizer = ModelTokenizer.Load(directory);
            int[] ids = parse.GetValue(promptIds) is string list ? ParseIds(list)
                : parse.GetValue(prompt) is string text ? tokenizer.Encode(text).ToArray()
                : throw new ArgumentException("give the prompt as --prompt \"text\" or --prompt-ids 1,2,3");
            bool asJson = parse.GetValue(json);

            using var device = new CpuDevice();
            using var lm = CausalLanguageModel.Load(directory, device);
            var sampling = new SamplingOptions(parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP), parse.GetValue(seed));
            var request = GenerationLimits.Checked(new GenerationRequest(ids, parse.GetValue(maxTokens), sampling, lm.Config.EosTokenIds), lm.Config);
            var result = new Generator(lm).Generate([request], asJson ? null : (_, token) => Console.Write(tokenizer.DecodeToken(token)))[0];
            string continuation = tokenizer.Decode(result.GeneratedIds);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    prompt_ids = ids,
                    generated_ids = result.GeneratedIds,
                    text = continuation,
                    finish_reason = result.FinishReason.ToString().ToLowerInvariant(),
                }));
            }
            else
            {
                Console.WriteLine();
            }

            return 0;
        });
        return command;
    }

    private static int[] ParseIds(string list) =>
        list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, out int id) && id >= 0 ? id : throw new ArgumentException($"--prompt-ids: '{s}' is not a token id; expected non-negative integers separated by commas"))
            .ToArray();
}
