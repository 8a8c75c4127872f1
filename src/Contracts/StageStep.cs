namespace OrleansQuant.Contracts;

/// <summary>
/// One micro-batch through a stage: this layer and the following ones up to <see cref="Through"/>, all on one device,
/// in one call from the coordinator (the activation stays on the device between them). <see cref="Ended"/> lists
/// sequences finished since the last step (their KV caches are freed first). With <see cref="Observe"/> the layers
/// collect calibration statistics; with <see cref="UsePending"/> they run the weights a build holds, not yet in
/// service. <see cref="ReturnRows"/>, on the model's last stage, keeps only the rows that are sampled. With
/// <see cref="KeepOnDevice"/> the output stays on the device and a handle comes back, for a next call on that device.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StageStep(
    [property: Id(0)] IReadOnlyList<ChunkDescriptor> Chunks,
    [property: Id(1)] ActivationPayload Input,
    [property: Id(2)] IReadOnlyList<long> Ended,
    [property: Id(3)] int Through,
    [property: Id(4)] bool Observe = false,
    [property: Id(5)] bool UsePending = false,
    [property: Id(6)] int[]? ReturnRows = null,
    [property: Id(7)] bool KeepOnDevice = false);
