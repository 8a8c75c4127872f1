namespace OrleansQuant.Contracts;

/// <summary>
/// What a layer grain needs to load its own tensors: the checkpoint directory, its index and device, and what its
/// full-precision weights are stored as (<see cref="LoadModelRequest.DType"/>). <see cref="Restore"/>: the coordinator
/// is bringing a persisted model back, so a layer with a <see cref="LayerRecord"/> for this checkpoint loads its
/// committed version from the model store instead of the source's weights; a plain load starts the layer afresh.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LayerLoadRequest(
    [property: Id(0)] string Directory,
    [property: Id(1)] int Layer,
    [property: Id(2)] int Device,
    [property: Id(3)] string DType = "auto",
    [property: Id(4)] bool Restore = false);
