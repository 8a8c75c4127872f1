namespace OrleansQuant.Contracts;

/// <summary>
/// A stage's output, with the version of each of its layers that produced it (first layer first), and
/// <see cref="Compute"/>: the time its layers spent on their device work, summed over the stage. The coordinator
/// measures the call's wall time around it; the difference is what the hop cost beyond the work (messaging, grain
/// scheduling, the device worker's queue, serialization).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StageOutput(
    [property: Id(0)] ActivationPayload Hidden,
    [property: Id(1)] IReadOnlyList<int> Versions,
    [property: Id(2)] TimeSpan Compute = default);
