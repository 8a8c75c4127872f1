namespace OrleansQuant.Contracts;

/// <summary>
/// One layer grain as its coordinator reports it. <see cref="Version"/> grows by one each time new weights go into
/// service; <see cref="Error"/> is the last failed (re-)quantization, whose old weights kept serving.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LayerStatus(
    [property: Id(0)] int Layer,
    [property: Id(1)] string Silo,
    [property: Id(2)] int Device,
    [property: Id(3)] LayerState State,
    [property: Id(4)] int Version,
    [property: Id(5)] string? Recipe,
    [property: Id(6)] string? Error,
    [property: Id(7)] int LiveSequences,
    [property: Id(8)] long KvCacheBytes);
