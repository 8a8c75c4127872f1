namespace OrleansQuant.Contracts;

/// <summary>
/// A model across the cluster: where each layer lives and how it is doing, the devices there are, and its jobs
/// (newest last). While it loads, <see cref="Layers"/> is empty.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelStatus(
    [property: Id(0)] string Model,
    [property: Id(1)] string Directory,
    [property: Id(2)] IReadOnlyList<LayerStatus> Layers,
    [property: Id(3)] IReadOnlyList<SiloDevices> Devices,
    [property: Id(4)] int ActiveSequences,
    [property: Id(5)] IReadOnlyList<JobInfo> Jobs);
