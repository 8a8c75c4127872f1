namespace OrleansQuant.Contracts;

/// <summary>A tensor by its checkpoint name: int8 values or float32 values, with its shape.</summary>
[GenerateSerializer, Immutable]
public sealed record NamedTensor(
    [property: Id(0)] string Name,
    [property: Id(1)] long[] Shape,
    [property: Id(2)] sbyte[]? Int8 = null,
    [property: Id(3)] float[]? Float32 = null);
