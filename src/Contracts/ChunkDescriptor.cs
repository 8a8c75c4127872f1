namespace OrleansQuant.Contracts;

/// <summary>The tokens of one sequence in a step: <see cref="Length"/> tokens from position <see cref="Start"/>.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ChunkDescriptor([property: Id(0)] long Sequence, [property: Id(1)] int Start, [property: Id(2)] int Length);
