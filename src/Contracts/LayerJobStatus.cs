namespace OrleansQuant.Contracts;

/// <summary>
/// A layer grain's current or last job ("load", "build" or "save"). <see cref="Done"/>/<see cref="Total"/> count
/// linears while a build runs; <see cref="Report"/> is the finished build's, <see cref="Shard"/> the written shard.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LayerJobStatus(
    [property: Id(0)] string Kind,
    [property: Id(1)] JobState State,
    [property: Id(2)] double ElapsedSeconds,
    [property: Id(3)] int Done,
    [property: Id(4)] int Total,
    [property: Id(5)] string? Error = null,
    [property: Id(6)] LayerBuildReport? Report = null,
    [property: Id(7)] LayerShard? Shard = null);
