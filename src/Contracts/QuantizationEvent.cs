namespace OrleansQuant.Contracts;

/// <summary>
/// Progress of a cluster quantization: calibration batches passed, or a layer quantized (with its W8A8 output error
/// before — plain round to nearest — and after the recipe, and how long it took on its device).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record QuantizationEvent(
    [property: Id(0)] string Stage,
    [property: Id(1)] int Done,
    [property: Id(2)] int Total,
    [property: Id(3)] double ElapsedSeconds,
    [property: Id(4)] int? Layer = null,
    [property: Id(5)] double? ErrorBefore = null,
    [property: Id(6)] double? ErrorAfter = null,
    [property: Id(7)] double? LayerSeconds = null);
