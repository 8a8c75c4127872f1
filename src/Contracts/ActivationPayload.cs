namespace OrleansQuant.Contracts;

/// <summary>
/// Activations <c>[Rows, Columns]</c> between layers: the values themselves (row-major float32), or a handle to them on
/// a device. Immutable, so Orleans passes it without a deep copy inside a silo.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ActivationPayload(
    [property: Id(0)] int Rows,
    [property: Id(1)] int Columns,
    [property: Id(2)] float[]? Values,
    [property: Id(3)] ActivationHandle? Handle);
