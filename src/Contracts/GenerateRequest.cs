namespace OrleansQuant.Contracts;

/// <summary>
/// What to continue — token ids, a text prompt, or a conversation (rendered with the model's chat template, the
/// assistant's turn opened) — with vLLM's sampling parameters (temperature 0 = greedy). <see cref="Logprobs"/> (0 to
/// 20) most likely tokens come with each generated token; <see cref="PromptLogprobs"/> scores the prompt too, every
/// token given the ones before it, delivered on the first generated token (<see cref="GeneratedToken.PromptLogprobs"/>).
/// <see cref="SeedOffset"/> (with a <see cref="Seed"/>) continues a seeded generation that delivered that many tokens:
/// sent with the prompt followed by them, it draws what the uninterrupted request would have (the SDK's resume uses it).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerateRequest(
    [property: Id(0)] string? Prompt = null,
    [property: Id(1)] int[]? PromptIds = null,
    [property: Id(2)] int MaxTokens = 32,
    [property: Id(3)] float Temperature = 0f,
    [property: Id(4)] int TopK = 0,
    [property: Id(5)] float TopP = 1f,
    [property: Id(6)] int? Seed = null,
    [property: Id(7)] IReadOnlyList<ChatTurn>? Messages = null,
    [property: Id(8)] int Logprobs = 0,
    [property: Id(9)] bool PromptLogprobs = false,
    [property: Id(10)] int SeedOffset = 0);
