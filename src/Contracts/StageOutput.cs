namespace OrleansQuant.Contracts;

/// <summary>A stage's output, with the version of each of its layers that produced it (first layer first).</summary>
[GenerateSerializer, Immutable]
public sealed record StageOutput([property: Id(0)] ActivationPayload Hidden, [property: Id(1)] IReadOnlyList<int> Versions);
