namespace OrleansQuant.Contracts;

/// <summary>What re-quantizing one layer did: the new version in service, or the error while the old one kept serving.</summary>
[GenerateSerializer, Immutable]
public sealed record RequantizeResult(
    [property: Id(0)] int Layer,
    [property: Id(1)] bool Succeeded,
    [property: Id(2)] int Version,
    [property: Id(3)] string? Error,
    [property: Id(4)] double? ErrorBefore = null,
    [property: Id(5)] double? ErrorAfter = null);
