namespace OrleansQuant.Contracts;

/// <summary>One compute device of a silo as the cluster sees it.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceDescription(
    [property: Id(0)] string Kind,
    [property: Id(1)] int Ordinal,
    [property: Id(2)] string Name,
    [property: Id(3)] long TotalMemoryBytes,
    [property: Id(4)] long FreeMemoryBytes);
