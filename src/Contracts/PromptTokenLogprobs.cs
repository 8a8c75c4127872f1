namespace OrleansQuant.Contracts;

/// <summary>
/// One prompt token scored: its log-probability given the prompt tokens before it (null for the first, which has none)
/// and the most likely tokens at its position, most likely first (empty for the first).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PromptTokenLogprobs(
    [property: Id(0)] int TokenId,
    [property: Id(1)] string Text,
    [property: Id(2)] float? Logprob,
    [property: Id(3)] IReadOnlyList<TokenLogprob> TopLogprobs);
