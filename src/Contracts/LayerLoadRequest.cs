namespace OrleansQuant.Contracts;

/// <summary>What a layer grain needs to load its own tensors: the checkpoint directory, its index and device.</summary>
[GenerateSerializer, Immutable]
public sealed record LayerLoadRequest(
    [property: Id(0)] string Directory,
    [property: Id(1)] int Layer,
    [property: Id(2)] int Device);
