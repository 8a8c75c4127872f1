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
        int[] prompt = request.PromptIds ?? PromptIds(request.Prompt, request.Messages, addSpecialTokens: true);
        var generation = new GenerationRequest(prompt, request.MaxTokens, new SamplingOptions(request.Temperature, request.TopK, request.TopP, request.Seed, request.SeedOffset), Config.EosTokenIds,
            request.Logprobs, request.PromptLogprobs);
        generation.Validate();
        CheckIds(prompt, "prompt ids");
        return generation;
    }

    /// <summary>Throws naming the first few <paramref name="ids"/> the vocabulary lacks.</summary>
    public void CheckIds(IReadOnlyCollection<int> ids, string what)
    {
        if (ids.Any(id => (uint)id >= (uint)Config.VocabSize))
        {
            throw new ArgumentException($"{what} must lie in [0, {Config.VocabSize}); got {string.Join(",", ids.Where(id => (uint)id >= (uint)Config.VocabSize).Take(3))}");
        }
    }

    /// <summary>
    /// The ids of a conversation (rendered with the chat template, the assistant's turn opened) or else of a text: what
    /// generation runs and what a client's tokenize call must see, so both count the same tokens.
    /// </summary>
    public int[] PromptIds(string? text, IReadOnlyList<ChatTurn>? messages, bool addSpecialTokens) =>
        messages is { Count: > 0 }
            ? Chat.Encode(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToArray(), addGenerationPrompt: true).ToArray()
            : Tokenizer.Encode(text ?? throw new ArgumentException("a prompt needs ids, messages or text; got none"), addSpecialTokens ? null : false).ToArray();

    public TokenizerInfo TokenizerInfo() => new(
        Tokenizer.BosId is int bos ? Tokenizer.DecodeToken(bos) : null,
        Tokenizer.EosId is int eos ? Tokenizer.DecodeToken(eos) : null,
        Config.EosTokenIds,
        Tokenizer.ChatTemplate,
        Config.MaxPositionEmbeddings,
        Config.VocabSize);
}
