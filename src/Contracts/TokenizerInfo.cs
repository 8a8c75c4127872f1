namespace OrleansQuant.Contracts;

/// <summary>
/// What a client needs to know of a loaded model's tokenizer to count and frame its own prompts (vLLM's
/// <c>/tokenizer_info</c>): the special tokens as text, the unrendered chat template, and the context length.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TokenizerInfo(
    [property: Id(0)] string? BosToken,
    [property: Id(1)] string? EosToken,
    [property: Id(2)] IReadOnlyList<int> EosTokenIds,
    [property: Id(3)] string? ChatTemplate,
    [property: Id(4)] int ModelMaxLength,
    [property: Id(5)] int VocabSize);
