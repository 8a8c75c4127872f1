using OrleansQuant.ChatTemplates;
using OrleansQuant.Contracts;
using OrleansQuant.Model;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>Everything a coordinator holds once its model's load job has ended, set once.</summary>
internal sealed record LoadedModel(
    string Directory,
    ModelConfig Config,
    ModelTokenizer Tokenizer,
    ChatPromptEncoder Chat,
    CoordinatorHead Head,
    ClusterPipeline Pipeline,
    GenerationScheduler Scheduler,
    IReadOnlyList<SiloDevices> Devices)
{
    /// <summary>The recipe the whole model was last quantized with, saved with a checkpoint.</summary>
    public string? RecipeYaml { get; set; }

    /// <summary>A client's request as the generator takes it: token ids from ids, a conversation or a text prompt.</summary>
    public GenerationRequest ToGeneration(GenerateRequest request)
    {
        int[] prompt = request.PromptIds
            ?? (request.Messages is { Count: > 0 } messages ? Chat.Encode(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToArray(), addGenerationPrompt: true).ToArray() : null)
            ?? Tokenizer.Encode(request.Prompt ?? throw new ArgumentException("a generate request needs PromptIds, Messages or Prompt")).ToArray();
        var generation = new GenerationRequest(prompt, request.MaxTokens, new SamplingOptions(request.Temperature, request.TopK, request.TopP, request.Seed), Config.EosTokenIds);
        generation.Validate();
        if (prompt.Any(id => (uint)id >= (uint)Config.VocabSize))
        {
            throw new ArgumentException($"prompt ids must lie in [0, {Config.VocabSize}); got {string.Join(",", prompt.Where(id => (uint)id >= (uint)Config.VocabSize).Take(3))}");
        }

        return generation;
    }
}
