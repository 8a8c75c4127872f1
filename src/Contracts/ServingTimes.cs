namespace OrleansQuant.Contracts;

/// <summary>The coordinator's generation steps since the last reset and the hops they made, one row per hop kind.</summary>
[GenerateSerializer, Immutable]
public sealed record ServingTimes(
    [property: Id(0)] long Steps,
    [property: Id(1)] IReadOnlyList<HopTimes> Hops);
