namespace OrleansQuant.Contracts;

/// <summary>The devices one silo owns; <see cref="Silo"/> is the silo's parsable address.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloDevices([property: Id(0)] string Silo, [property: Id(1)] IReadOnlyList<DeviceDescription> Devices);
