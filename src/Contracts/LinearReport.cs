namespace OrleansQuant.Contracts;

/// <summary>One quantized linear: GPTQ's weight loss and the W8A8 output error with plain RTN and with the recipe.</summary>
[GenerateSerializer, Immutable]
public sealed record LinearReport(
    [property: Id(0)] string Module,
    [property: Id(1)] double WeightLoss,
    [property: Id(2)] double BaselineError,
    [property: Id(3)] double W8A8Error);
