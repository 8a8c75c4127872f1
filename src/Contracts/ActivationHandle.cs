namespace OrleansQuant.Contracts;

/// <summary>An activation left on a device: the next layer, on the same silo and device, picks it up without copying.</summary>
[GenerateSerializer, Immutable]
public sealed record ActivationHandle([property: Id(0)] string Silo, [property: Id(1)] int Device, [property: Id(2)] Guid Id);
