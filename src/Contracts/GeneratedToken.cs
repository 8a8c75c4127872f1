namespace OrleansQuant.Contracts;

/// <summary>
/// One streamed token; the last one carries <see cref="FinishReason"/> ("stop" or "length"). <see cref="LayerVersions"/>
/// are the versions of the layers that produced it, so a re-quantization going into service shows in the stream.
/// <see cref="Logprob"/> is its log-probability under the model's unscaled softmax; <see cref="TopLogprobs"/> the most
/// likely tokens where it was chosen, when the request asked for them; <see cref="PromptLogprobs"/>, on the first token
/// only and when asked, every prompt token scored.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GeneratedToken(
    [property: Id(0)] int Index,
    [property: Id(1)] int TokenId,
    [property: Id(2)] string Text,
    [property: Id(3)] string? FinishReason = null,
    [property: Id(4)] IReadOnlyList<int>? LayerVersions = null,
    [property: Id(5)] float? Logprob = null,
    [property: Id(6)] IReadOnlyList<TokenLogprob>? TopLogprobs = null,
    [property: Id(7)] IReadOnlyList<PromptTokenLogprobs>? PromptLogprobs = null);
