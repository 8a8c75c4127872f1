namespace OrleansQuant.Contracts;

/// <summary>A token (its id and text) and its log-probability at one position: one of the most likely tokens there.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenLogprob(
    [property: Id(0)] int TokenId,
    [property: Id(1)] string Text,
    [property: Id(2)] float Logprob);
