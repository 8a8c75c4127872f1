namespace OrleansQuant.Contracts;

/// <summary>A prompt (text, or token ids) to continue, with vLLM's sampling parameters (temperature 0 = greedy).</summary>
[GenerateSerializer, Immutable]
public sealed record GenerateRequest(
    [property: Id(0)] string? Prompt = null,
    [property: Id(1)] int[]? PromptIds = null,
    [property: Id(2)] int MaxTokens = 32,
    [property: Id(3)] float Temperature = 0f,
    [property: Id(4)] int TopK = 0,
    [property: Id(5)] float TopP = 1f,
    [property: Id(6)] int? Seed = null);
