namespace OrleansQuant.Contracts;

/// <summary>
/// One streamed token; the last one carries <see cref="FinishReason"/> ("stop" or "length"). <see cref="LayerVersions"/>
/// are the versions of the layers that produced it, so a re-quantization going into service shows in the stream.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GeneratedToken(
    [property: Id(0)] int Index,
    [property: Id(1)] int TokenId,
    [property: Id(2)] string Text,
    [property: Id(3)] string? FinishReason = null,
    [property: Id(4)] IReadOnlyList<int>? LayerVersions = null);
