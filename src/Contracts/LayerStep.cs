namespace OrleansQuant.Contracts;

/// <summary>
/// One micro-batch through one layer. <see cref="Ended"/> lists sequences finished since the last step (their KV cache
/// is freed first). With <see cref="Observe"/> the layer accumulates calibration statistics; with
/// <see cref="KeepOnDevice"/> the output stays on the device and a handle comes back.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LayerStep(
    [property: Id(0)] IReadOnlyList<ChunkDescriptor> Chunks,
    [property: Id(1)] ActivationPayload Input,
    [property: Id(2)] IReadOnlyList<long> Ended,
    [property: Id(3)] bool Observe = false,
    [property: Id(4)] bool KeepOnDevice = false);
