namespace OrleansQuant.Contracts;

/// <summary>A layer's quantization, as the layer grain reports it to its coordinator.</summary>
[GenerateSerializer, Immutable]
public sealed record LayerBuildReport(
    [property: Id(0)] int Layer,
    [property: Id(1)] double Seconds,
    [property: Id(2)] IReadOnlyList<LinearReport> Linears);
