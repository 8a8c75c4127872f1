namespace OrleansQuant.Contracts;

/// <summary>
/// Activations <c>[Rows, Columns]</c> between layers: the values themselves, row-major, as float32 (<see cref="Values"/>)
/// or as bf16 bit patterns (<see cref="BFloat16Bits"/>, half the bytes on the wire: what a bf16 model's layers hold), or
/// a handle to them on a device. The receiver converts to its own activation type. Immutable, so Orleans passes it
/// without a deep copy inside a silo.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ActivationPayload(
    [property: Id(0)] int Rows,
    [property: Id(1)] int Columns,
    [property: Id(2)] float[]? Values,
    [property: Id(3)] ActivationHandle? Handle,
    [property: Id(4)] ushort[]? BFloat16Bits = null);
